// Renders media/icon.svg to media/icon.png (256x256, transparent corners) with Debian's
// Chromium, so the marketplace icon is reproducible from its source: node scripts/make-icon.mjs
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureTools, launchBrowser, loadPlaywright, repoRoot } from './lib/codeServer.mjs';

const scratch = mkdtempSync(join(tmpdir(), 'dstab-icon-'));
const browser = await launchBrowser(
  loadPlaywright(ensureTools()),
  { browser: scratch },
  { viewport: { width: 256, height: 256 } },
);
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  await page.goto(pathToFileURL(join(repoRoot, 'media/icon.svg')).href);
  await page.screenshot({
    path: join(repoRoot, 'media/icon.png'),
    omitBackground: true,
    clip: { x: 0, y: 0, width: 256, height: 256 },
  });
} finally {
  await browser.close();
  rmSync(scratch, { recursive: true, force: true });
}
