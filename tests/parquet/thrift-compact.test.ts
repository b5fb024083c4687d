/** The Thrift compact reader on hand-assembled bytes: scalars, field-id deltas, containers, malformed input. */
import { describe, expect, test } from "bun:test";
import { readStruct } from "../../src/parquet/thrift-compact.ts";

/** Bytes written out by hand from the compact protocol spec (field header = delta << 4 | type). */
const b = (...xs: number[]) => Uint8Array.from(xs);

describe("thrift compact reader", () => {
  test("scalars: i32 (zigzag, negative), i64 past 2^32, bools in the type nibble, double, binary", () => {
    const bytes = b(
      0x15,
      0x0a, // field 1 i32: zigzag 10 → 5
      0x15,
      0x03, // field 2 i32: zigzag 3 → -2
      0x16,
      0x80,
      0x80,
      0x80,
      0x80,
      0x80,
      0x01, // field 3 i64: 2^34 → zigzag 2^35 (5 × 7 zero bits, then 1)
      0x11, // field 4 bool true
      0x12, // field 5 bool false
      0x17,
      0,
      0,
      0,
      0,
      0,
      0,
      0xf8,
      0x3f, // field 6 double 1.5
      0x18,
      0x03,
      0x61,
      0x62,
      0x63, // field 7 binary "abc"
      0x13,
      0xff, // field 8 byte -1
      0x00,
    );
    const { value, end } = readStruct(bytes);
    expect(end).toBe(bytes.length);
    expect([...value.entries()]).toEqual([
      [1, 5],
      [2, -2],
      [3, 2 ** 34],
      [4, true],
      [5, false],
      [6, 1.5],
      [7, b(0x61, 0x62, 0x63)],
      [8, -1],
    ]);
  });

  test("a field id jump over 15 is written in full; the next delta counts from it", () => {
    // field 20 (i32 7): type byte then zigzag(20) = 40; field 21 (i32 1): delta 1
    const { value } = readStruct(b(0x05, 40, 14, 0x15, 2, 0x00));
    expect([...value.entries()]).toEqual([
      [20, 7],
      [21, 1],
    ]);
  });

  test("lists (short and long headers, bools as bytes), sets, maps, nested structs keep their own field ids", () => {
    const long = Array.from({ length: 16 }, (_, i) => i);
    const bytes = b(
      0x19,
      0x35,
      2,
      4,
      6, // field 1 list<i32> [1, 2, 3]
      0x19,
      0xf5,
      16,
      ...long.map((x) => x * 2), // field 2 list<i32> of 16 (size in a varint)
      0x19,
      0x21,
      1,
      2, // field 3 list<bool> [true, false]
      0x1a,
      0x28,
      1,
      0x78,
      1,
      0x79, // field 4 set<binary> {"x", "y"}
      0x1b,
      0x01,
      0x85,
      0x00,
      20, // field 5 map<binary, i32> {"": 10}: size, key/value types, key, value
      0x1c,
      0x35,
      6,
      0x00, // field 6 struct { field 3 i32: 3 }
      0x15,
      8, // field 7 i32 4: the delta counts from 6, not from the struct's 3
      0x00,
    );
    const { value, end } = readStruct(bytes);
    expect(end).toBe(bytes.length);
    expect(value.get(1)).toEqual([1, 2, 3]);
    expect(value.get(2)).toEqual(long);
    expect(value.get(3)).toEqual([true, false]);
    expect(value.get(4)).toEqual([b(0x78), b(0x79)]);
    expect(value.get(5)).toEqual(new Map([[b(), 10]]));
    expect(value.get(6)).toEqual(new Map([[3, 3]]));
    expect(value.get(7)).toBe(4);
  });

  test("starts at an offset and reports where the struct ends (page header then page body)", () => {
    const bytes = b(0xaa, 0x15, 2, 0x00, 0xbb, 0xcc);
    expect(readStruct(bytes, 1)).toEqual({ value: new Map([[1, 1]]), end: 4 });
  });

  test("malformed input throws: truncation anywhere, unknown types, absurd sizes, endless varints", () => {
    const good = b(0x15, 0x0a, 0x18, 0x03, 0x61, 0x62, 0x63, 0x00);
    for (let n = 0; n < good.length; n++) expect(() => readStruct(good.subarray(0, n))).toThrow();
    expect(() => readStruct(b(0x1e, 0x00))).toThrow(/unknown type/);
    expect(() => readStruct(b(0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f, 0x00))).toThrow(/larger than its input/);
    expect(() => readStruct(b(0x15, ...Array(11).fill(0xff), 0x00))).toThrow(/varint/);
    // a struct nested past any sane depth
    expect(() => readStruct(b(...Array(100).fill(0x1c), ...Array(101).fill(0)))).toThrow(/deeply/);
  });
});
