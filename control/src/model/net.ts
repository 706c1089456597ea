/**
 * Parsing and canonical forms of addresses, prefixes and MACs (ipaddr.js and
 * zod do the parsing). Canonical forms are what the model stores and what
 * keys compare: IPv4 dotted quad, IPv6 RFC 5952, MAC lower-case colon form.
 * Every parser throws INVALID_ARGUMENT naming `field`.
 */
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { invalid, quote } from '../errors';

export type Family = 4 | 6;

export interface ParsedIp { address: string; family: Family; ip: ipaddr.IPv4 | ipaddr.IPv6 }
export interface ParsedCidr extends ParsedIp { prefixLen: number; cidr: string }

const FOUR_PART = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/** Longest text of an address, a prefix or a MAC ("ffff:...:255.255.255.255/128" is 49). */
const MAX_TEXT = 64;

function checkText(text: unknown, field: string): asserts text is string {
  if (typeof text !== 'string' || text === '') throw invalid(field, 'required');
  // Before any regular expression or parser sees it.
  if (text.length > MAX_TEXT) throw invalid(field, `${text.length} characters, at most ${MAX_TEXT}: ${quote(text)}`);
}

/** Strict: four-part decimal IPv4 (no octal/hex/short forms) or IPv6 without a zone. */
export function parseIp(text: unknown, field: string): ParsedIp {
  checkText(text, field);
  const m = FOUR_PART.exec(text);
  if (m) {
    let ip: ipaddr.IPv4;
    try {
      ip = new ipaddr.IPv4([+m[1], +m[2], +m[3], +m[4]]); // range-checks the octets
    } catch {
      throw invalid(field, `not an IP address: ${quote(text)}`);
    }
    return { address: text, family: 4, ip };
  }
  if (text.includes(':') && ipaddr.IPv6.isValid(text)) {
    const ip = ipaddr.IPv6.parse(text);
    if (ip.zoneId) throw invalid(field, `zone not allowed in ${quote(text)}`);
    return { address: ip.toString(), family: 6, ip };
  }
  throw invalid(field, `not an IP address: ${quote(text)}`);
}

/** "addr/len"; the length is required and must fit the family. Host bits are kept. */
export function parseCidr(text: unknown, field: string): ParsedCidr {
  checkText(text, field);
  const slash = text.indexOf('/');
  if (slash < 0) throw invalid(field, `prefix length missing in ${quote(text)}`);
  const ip = parseIp(text.slice(0, slash), field) as ParsedCidr;
  const lenText = text.slice(slash + 1);
  const max = ip.family === 4 ? 32 : 128;
  if (!/^(0|[1-9]\d{0,2})$/.test(lenText) || Number(lenText) > max) {
    throw invalid(field, `prefix length must be 0..${max} in ${quote(text)}`);
  }
  ip.prefixLen = Number(lenText);
  ip.cidr = `${ip.address}/${ip.prefixLen}`;
  return ip;
}

const masks4 = Array.from({ length: 33 }, (_, n) => ipaddr.IPv4.subnetMaskFromPrefixLength(n).toByteArray());
const masks6 = Array.from({ length: 129 }, (_, n) => ipaddr.IPv6.subnetMaskFromPrefixLength(n).toByteArray());

function hostBitsZero(p: ParsedCidr): boolean {
  const bytes = p.ip.toByteArray();
  const mask = (p.family === 4 ? masks4 : masks6)[p.prefixLen];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] & ~mask[i]) return false;
  return true;
}

function networkOf(p: ParsedCidr): string {
  return p.family === 4
    ? ipaddr.IPv4.networkAddressFromCIDR(p.cidr).toString()
    : ipaddr.IPv6.networkAddressFromCIDR(p.cidr).toString();
}

/** A route prefix: CIDR with every host bit zero. */
export function parsePrefix(text: unknown, field: string): ParsedCidr {
  const p = parseCidr(text, field);
  if (!hostBitsZero(p)) throw invalid(field, `host bits set in ${quote(text)} (network is ${networkOf(p)}/${p.prefixLen})`);
  return p;
}

/**
 * parsePrefix's fast path for the common shape, a plain IPv4 "a.b.c.d/len"
 * that parsePrefix accepts (same syntax rules, no host bits): scanned by hand
 * so that a big batch builds no ipaddr.js object per route. Returns the
 * canonical CIDR (the text itself), or undefined for anything else, which the
 * full parser then accepts or refuses with its own message.
 */
export function fastPrefix4(text: string): string | undefined {
  const n = text.length;
  let i = 0;
  let addr = 0;
  for (let part = 0; part < 4; part++) {
    const start = i;
    let v = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const len = i - start;
    if (len === 0 || len > 3 || v > 255 || (len > 1 && text.charCodeAt(start) === 48)) return undefined;
    addr = ((addr << 8) | v) >>> 0;
    if (i >= n || text.charCodeAt(i) !== (part < 3 ? 46 : 47)) return undefined; // '.' then '/'
    i++;
  }
  const start = i;
  let plen = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
    plen = plen * 10 + (c - 48);
    i++;
  }
  const len = i - start;
  if (len === 0 || len > 2 || plen > 32 || (len > 1 && text.charCodeAt(start) === 48)) return undefined;
  if (plen < 32 && (addr << plen) !== 0) return undefined; // host bits set
  return text;
}

/** The subnet of an interface address, e.g. 10.0.1.1/24 -> 10.0.1.0/24. */
export function subnetOf(cidr: string): string {
  const p = parseCidr(cidr, 'cidr');
  return `${networkOf(p)}/${p.prefixLen}`;
}

/** An interface address: unicast, not the unspecified address. */
export function parseInterfaceAddress(text: unknown, field: string): ParsedCidr {
  const p = parseCidr(text, field);
  const range = p.ip.range();
  if (['unspecified', 'multicast', 'broadcast', 'loopback'].includes(range)) {
    throw invalid(field, `${range} address ${p.address} cannot be a port address`);
  }
  return p;
}

const macSchema = z.mac();

/** Unicast Ethernet address, "aa:bb:cc:dd:ee:ff" (case-insensitive; '-' accepted). */
export function parseMac(text: unknown, field: string): string {
  checkText(text, field);
  const mac = text.toLowerCase().replace(/-/g, ':');
  if (!macSchema.safeParse(mac).success) throw invalid(field, `not a MAC address: ${quote(text)}`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw invalid(field, `multicast MAC ${mac} cannot be a neighbor`);
  if (mac === '00:00:00:00:00:00') throw invalid(field, 'zero MAC');
  return mac;
}

/** Address canonical form, for values coming from the dataplane (already valid). */
export function canonicalIp(text: string): string {
  return ipaddr.parse(text).toString();
}

export function familyOf(text: string): Family {
  return text.includes(':') ? 6 : 4;
}

/** Family filter of list requests (the enum's name, or its number). */
export function parseFamily(f: unknown, field: string): 0 | Family {
  switch (f) {
    case undefined: case null: case '': case 0: case 'FAMILY_UNSPECIFIED': return 0;
    case 4: case 'FAMILY_IPV4': return 4;
    case 6: case 'FAMILY_IPV6': return 6;
    default: throw invalid(field, `unknown family ${String(f)}`);
  }
}
