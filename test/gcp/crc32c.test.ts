import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/gcp/crc32c.js';
import { crc32cBitwise } from '../fixtures/gcp/index.js';

describe('crc32c (Castagnoli)', () => {
  it('matches the published check values', () => {
    // RFC 3720 appendix B.4 and the CRC catalogue's CRC-32/ISCSI check value.
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the double\'s bitwise implementation on any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => crc32c(bytes) === crc32cBitwise(bytes)));
  });

  it('is not plain CRC-32 (IEEE), which Secret Manager does not use', () => {
    expect(crc32c(Buffer.from('123456789'))).not.toBe(0xcbf43926);
  });
});
