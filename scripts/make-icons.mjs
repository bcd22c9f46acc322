// Draws Hearth's icons (assets/icon.png for the installers, assets/tray-<state>.png for the tray)
// from the SVG below, with sharp. The PNGs are committed; run this after changing the drawing:
//   node scripts/make-icons.mjs
import sharp from 'sharp';
import { join } from 'node:path';

const ASSETS = join(import.meta.dirname, '..', 'assets');

// A house whose doorway holds a flame: a home that keeps the family's conversations warm.
function drawing(flame, roof = '#2f3e4e', badge) {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <path d="M32 5 L60 29 L53 29 L53 58 L11 58 L11 29 L4 29 Z" fill="${roof}"/>
  <path d="M32 22 C 38 30, 43 35, 43 43 A 11 11 0 0 1 21 43 C 21 37, 26 34, 27 27 C 30 31, 31 33, 32 34 C 33 30, 33 26, 32 22 Z" fill="${flame}"/>
  <path d="M32 36 C 35 40, 37 42, 37 45 A 5 5 0 0 1 27 45 C 27 42, 30 40, 32 36 Z" fill="#ffe39a"/>
  ${badge ? `<circle cx="52" cy="52" r="11" fill="${badge}" stroke="#fff" stroke-width="3"/>` : ''}
</svg>`;
}

const TRAY = {
  running: drawing('#f08a24'),
  busy: drawing('#f0b424', '#2f3e4e', '#3b82f6'),
  stopped: drawing('#9aa3ad', '#6b7580'),
  error: drawing('#f08a24', '#2f3e4e', '#d93636'),
};

await sharp(Buffer.from(drawing('#f08a24'))).resize(512, 512).png().toFile(join(ASSETS, 'icon.png'));
for (const [state, svg] of Object.entries(TRAY)) {
  await sharp(Buffer.from(svg)).resize(32, 32).png().toFile(join(ASSETS, `tray-${state}.png`));
}
process.stdout.write(`icons written to ${ASSETS}\n`);
