/**
 * First passwords to hand over: four groups of four from an alphabet without look-alikes
 * (no 0/O, 1/l/I), about 79 bits from the browser's CSPRNG, easy to read aloud or type on a phone.
 */
const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export function generatePassword(groups = 4, size = 4): string {
  const out: string[] = [];
  const bytes = new Uint8Array(groups * size);
  crypto.getRandomValues(bytes);
  // 256 is a multiple of 32, so `% 32` has no bias.
  for (let g = 0; g < groups; g++) out.push(Array.from(bytes.slice(g * size, (g + 1) * size), (b) => ALPHABET[b % ALPHABET.length]).join(''));
  return out.join('-');
}
