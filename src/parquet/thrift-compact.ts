/**
 * A generic Thrift compact-protocol decoder for Parquet footers and page headers: a struct decodes to a field id →
 * value map (unknown fields skipped for free). Anything malformed throws: callers take that as "cannot read this
 * from metadata".
 */

/** A decoded value: i8/i16/i32/i64 and double as number (i64 beyond 2^53 loses precision: check before use). */
export type ThriftValue = number | boolean | Uint8Array | ThriftValue[] | ThriftStruct | Map<ThriftValue, ThriftValue>;
export type ThriftStruct = Map<number, ThriftValue>;

const T_TRUE = 1,
  T_FALSE = 2,
  T_BYTE = 3,
  T_I16 = 4,
  T_I32 = 5,
  T_I64 = 6,
  T_DOUBLE = 7,
  T_BINARY = 8;
const T_LIST = 9,
  T_SET = 10,
  T_MAP = 11,
  T_STRUCT = 12,
  T_UUID = 13;
const MAX_DEPTH = 64;

export class ThriftReader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error("thrift: truncated");
    return this.buf[this.pos++];
  }
  /** Unsigned varint as a number (no 32-bit bit ops: values can exceed 2^31). */
  private uvarint(): number {
    let v = 0,
      mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new Error("thrift: varint too long");
  }
  private zigzag(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  private take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error("thrift: truncated");
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** A collection size, bounded by the bytes left (every element takes at least one byte, bools included). */
  private size(n: number): number {
    if (n > this.buf.length - this.pos) throw new Error("thrift: collection larger than its input");
    return n;
  }

  private value(type: number, depth: number, inCollection = false): ThriftValue {
    if (depth > MAX_DEPTH) throw new Error("thrift: nested too deeply"); // lists and maps nest too, not only structs
    switch (type) {
      case T_TRUE:
      case T_FALSE:
        // a bool field carries its value in the type; a bool in a list/set/map is a byte (1 = true)
        return inCollection ? this.byte() === 1 : type === T_TRUE;
      case T_BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T_I16:
      case T_I32:
      case T_I64:
        return this.zigzag();
      case T_DOUBLE: {
        const b = this.take(8);
        return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
      }
      case T_BINARY:
        return this.take(this.uvarint());
      case T_UUID:
        return this.take(16);
      case T_LIST:
      case T_SET: {
        const h = this.byte();
        const n = this.size(h >> 4 === 15 ? this.uvarint() : h >> 4);
        const et = h & 0x0f;
        const out: ThriftValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(et, depth + 1, true));
        return out;
      }
      case T_MAP: {
        const n = this.size(this.uvarint());
        const out = new Map<ThriftValue, ThriftValue>();
        if (n === 0) return out;
        const kv = this.byte();
        for (let i = 0; i < n; i++)
          out.set(this.value(kv >> 4, depth + 1, true), this.value(kv & 0x0f, depth + 1, true));
        return out;
      }
      case T_STRUCT:
        return this.struct(depth + 1);
      default:
        throw new Error(`thrift: unknown type ${type}`);
    }
  }

  /** Reads one struct (up to and including its STOP byte). */
  struct(depth = 0): ThriftStruct {
    if (depth > MAX_DEPTH) throw new Error("thrift: nested too deeply");
    const out: ThriftStruct = new Map();
    let last = 0;
    for (;;) {
      const h = this.byte();
      if (h === 0) return out;
      const type = h & 0x0f;
      const delta = h >> 4;
      const id = delta === 0 ? this.zigzag() : last + delta;
      out.set(id, this.value(type, depth));
      last = id;
    }
  }
}

/** Decodes one struct of `buf` at `start`; `end` is the offset just past it. */
export function readStruct(buf: Uint8Array, start = 0): { value: ThriftStruct; end: number } {
  const r = new ThriftReader(buf, start);
  const value = r.struct();
  return { value, end: r.pos };
}
