// The Date header's value (RFC 9110 §5.6.7, IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"),
// formatted from the host's UNIX_SECONDS and cached for the rest of that second.

import { writeDecimal } from "./bytes";
import { unixSeconds } from "../clock";

export const DATE_BYTES: u32 = 29;
const DATE = memory.data(32);
const CACHED_SECOND = memory.data(8); // the second DATE holds, +1 so 0 means none
const DAYS = "ThuFriSatSunMonTueWed"; // 1970-01-01 was a Thursday
const MONTHS = "JanFebMarAprMayJunJulAugSepOctNovDec";

function two(dst: usize, v: u32): void {
  store<u8>(dst, <u8>(0x30 + v / 10));
  store<u8>(dst + 1, <u8>(0x30 + v % 10));
}

function three(dst: usize, names: string, index: u32): void {
  for (let i: u32 = 0; i < 3; i++) store<u8>(dst + i, <u8>names.charCodeAt(index * 3 + i));
}

/** The 29 bytes of the current date, at a fixed address. */
export function httpDate(): usize {
  const now = unixSeconds();
  if (load<u32>(CACHED_SECOND) == now + 1) return DATE;
  store<u32>(CACHED_SECOND, now + 1);
  const days = now / 86400;
  const secs = now % 86400;
  // Civil date from days since 1970-01-01 (Howard Hinnant's days_from_civil, inverted).
  const z = <i64>days + 719468;
  const era = z / 146097;
  const doe = <u32>(z - era * 146097);
  const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const mp = (5 * doy + 2) / 153;
  const day = doy - (153 * mp + 2) / 5 + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = <u32>(<i64>yoe + era * 400) + (month <= 2 ? 1 : 0);
  three(DATE, DAYS, days % 7);
  store<u8>(DATE + 3, 0x2c); // ","
  store<u8>(DATE + 4, 0x20);
  two(DATE + 5, day);
  store<u8>(DATE + 7, 0x20);
  three(DATE + 8, MONTHS, month - 1);
  store<u8>(DATE + 11, 0x20);
  writeDecimal(DATE + 12, year);
  store<u8>(DATE + 16, 0x20);
  two(DATE + 17, secs / 3600);
  store<u8>(DATE + 19, 0x3a);
  two(DATE + 20, secs / 60 % 60);
  store<u8>(DATE + 22, 0x3a);
  two(DATE + 23, secs % 60);
  store<u8>(DATE + 25, 0x20);
  store<u8>(DATE + 26, 0x47); // "GMT"
  store<u8>(DATE + 27, 0x4d);
  store<u8>(DATE + 28, 0x54);
  return DATE;
}
