/**
 * Renders web/public/favicon.svg into web/public/favicon.ico (16, 32 and 48 px PNGs in one ICO
 * container) with the same headless Chromium the browser tests use. Run after changing the SVG:
 * `npx tsx scripts/make-favicon.ts`. Browsers that ask for /favicon.ico by themselves get a real
 * icon; the page links the SVG for the ones that take it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { launchHeadless } from '../test/web/browser.js';

const dir = resolve(import.meta.dirname, '../web/public');
const svg = readFileSync(resolve(dir, 'favicon.svg'), 'utf8');
const sizes = [16, 32, 48];

const chrome = await launchHeadless();
const images: Buffer[] = [];
try {
  for (const size of sizes) {
    const ctx = await chrome.browser.newContext({ viewport: { width: size, height: size } });
    const page = await ctx.newPage();
    await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`);
    images.push(await page.screenshot({ omitBackground: true, type: 'png' }));
    await ctx.close();
  }
} finally {
  await chrome.close();
}

// ICONDIR (6 bytes), one ICONDIRENTRY (16 bytes) per image, then the PNGs themselves
const header = Buffer.alloc(6 + 16 * images.length);
header.writeUInt16LE(0, 0);
header.writeUInt16LE(1, 2);
header.writeUInt16LE(images.length, 4);
let offset = header.length;
images.forEach((png, i) => {
  const size = sizes[i] ?? 0;
  const at = 6 + 16 * i;
  header.writeUInt8(size % 256, at);
  header.writeUInt8(size % 256, at + 1);
  header.writeUInt8(0, at + 2);
  header.writeUInt8(0, at + 3);
  header.writeUInt16LE(1, at + 4);
  header.writeUInt16LE(32, at + 6);
  header.writeUInt32LE(png.length, at + 8);
  header.writeUInt32LE(offset, at + 12);
  offset += png.length;
});
writeFileSync(resolve(dir, 'favicon.ico'), Buffer.concat([header, ...images]));
console.log(`favicon.ico: ${offset} bytes (${sizes.join(', ')} px)`);
