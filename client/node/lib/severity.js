'use strict';
// RFC 5424 severities, named as metlog-py names them.
const SEVERITY = Object.freeze({
  EMERGENCY: 0,
  ALERT: 1,
  CRITICAL: 2,
  ERROR: 3,
  WARNING: 4,
  NOTICE: 5,
  INFORMATIONAL: 6,
  DEBUG: 7,
});

module.exports = { SEVERITY };
