'use strict';
// Filter providers, as metlog-py's metlog.filters: each returns a function
// that takes a message and returns true when it should be sent.

// Refuses messages less severe (a higher number) than `severity`.
function severityMax(severity) {
  return (msg) => msg.severity <= severity;
}

// Refuses messages whose type is in `types`.
function typeBlacklist(types) {
  const denied = new Set(types);
  return (msg) => !denied.has(msg.type);
}

// Refuses messages whose type is not in `types`.
function typeWhitelist(types) {
  const allowed = new Set(types);
  return (msg) => allowed.has(msg.type);
}

// Per type, refuses messages less severe than that type's maximum:
// typeSeverityMax({ log: 4, exception: 1 }). Other types pass.
function typeSeverityMax(maxima) {
  const limits = new Map(Object.entries(maxima));
  return (msg) => {
    const limit = limits.get(msg.type);
    return limit === undefined || msg.severity <= limit;
  };
}

module.exports = { severityMax, typeBlacklist, typeWhitelist, typeSeverityMax };
