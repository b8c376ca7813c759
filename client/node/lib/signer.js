'use strict';
// HMAC-SHA256 packet signatures, as the C++ client's PacketSigner makes them:
// Signature { signer, key_version, hmac_sha256 over the Packet's batch bytes }.
const crypto = require('node:crypto');

class PacketSigner {
  // `key` is a Buffer, or a string taken as UTF-8.
  constructor({ name, keyVersion = 1, key }) {
    if (typeof name !== 'string' || name === '') {
      throw new TypeError('metlog: a signer needs a non-empty name');
    }
    if (key == null || key.length === 0) {
      throw new TypeError(`metlog: signer "${name}" needs a non-empty key`);
    }
    this.name = name;
    this.keyVersion = keyVersion;
    this.key = Buffer.from(key);
  }

  // Bytes the signature adds to a Packet, at most.
  get overheadBytes() {
    return Buffer.byteLength(this.name) + 64;
  }

  sign(batch) {
    const hmacSha256 = crypto.createHmac('sha256', this.key).update(batch).digest();
    return { signer: this.name, keyVersion: this.keyVersion, hmacSha256 };
  }
}

module.exports = { PacketSigner };
