// Typed fields for Client::Metlog:
//   client.Metlog("db", "slow query", {MakeField("rows", 5),
//                                      MakeField("table", "users"),
//                                      MakeField("elapsed", 12.5, "ms")});
#ifndef METLOG_CLIENT_ENVELOPE_FIELD_H_
#define METLOG_CLIENT_ENVELOPE_FIELD_H_

#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/metlog.pb.h"

namespace metlog {

// Marks a value as raw bytes rather than text.
struct Bytes {
  std::string data;
};

namespace field_internal {

template <typename T>
void AddValue(const T& value, v1::Field* field) {
  if constexpr (std::is_same_v<T, bool>) {
    field->set_value_type(v1::Field::BOOL);
    field->add_value_bool(value);
  } else if constexpr (std::is_integral_v<T>) {
    field->set_value_type(v1::Field::INTEGER);
    field->add_value_integer(static_cast<int64_t>(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    field->set_value_type(v1::Field::DOUBLE);
    field->add_value_double(static_cast<double>(value));
  } else if constexpr (std::is_same_v<T, Bytes>) {
    field->set_value_type(v1::Field::BYTES);
    field->add_value_bytes(value.data);
  } else {
    static_assert(std::is_convertible_v<const T&, absl::string_view>,
                  "a field value is a string, Bytes, an integer, a double, a "
                  "bool, or a std::vector of one of those");
    field->set_value_type(v1::Field::STRING);
    field->add_value_string(std::string(absl::string_view(value)));
  }
}

template <typename T>
void AddValues(const T& value, v1::Field* field) {
  AddValue(value, field);
}

template <typename T>
void AddValues(const std::vector<T>& values, v1::Field* field) {
  for (const T& value : values) AddValue(value, field);
}

}  // namespace field_internal

// A field named `name` holding `value` (or each element of a std::vector),
// typed from the C++ type; `representation` is a unit hint such as "ms".
template <typename T>
v1::Field MakeField(absl::string_view name, const T& value,
                    absl::string_view representation = "") {
  v1::Field field;
  field.set_name(std::string(name));
  if (!representation.empty()) {
    field.set_representation(std::string(representation));
  }
  field_internal::AddValues(value, &field);
  return field;
}

// How many values `field` holds in the array its value_type names (values
// in the other arrays are not its values).
inline int FieldValueCount(const v1::Field& field) {
  switch (field.value_type()) {
    case v1::Field::STRING:
      return field.value_string_size();
    case v1::Field::BYTES:
      return field.value_bytes_size();
    case v1::Field::INTEGER:
      return field.value_integer_size();
    case v1::Field::DOUBLE:
      return field.value_double_size();
    case v1::Field::BOOL:
      return field.value_bool_size();
  }
  return 0;
}

}  // namespace metlog

#endif  // METLOG_CLIENT_ENVELOPE_FIELD_H_
