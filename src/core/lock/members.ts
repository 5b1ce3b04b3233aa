import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { removeGeneration, removeUnowned } from './generation';
import { summarize } from './metadata';
import type { LockPaths } from './names';
import { currentIdentity } from './process';
import { errCode, memberPaths, metaOf } from './holders';
import { LockDirError, type SharedHolderStatus } from './types';
import { inspect, judgeStale, record, type LockContext } from './common';
import { errorMessage } from '../../shared/errors';

/**
 * The shared holders, each judged like an exclusive holder. With `reclaim`, stale ones are
 * removed (fenced, recorded) and only live ones returned; leftover metadata of released ones goes too.
 */
export async function sharedHolders(
  ctx: LockContext,
  paths: LockPaths,
  reclaim: boolean,
): Promise<{ holders: SharedHolderStatus[]; reclaimed: number }> {
  let entries: string[];
  try {
    entries = await fsp.readdir(paths.shared);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return { holders: [], reclaimed: 0 };
    if (errCode(err) === 'ENOTDIR') {
      // Something planted where the folder belongs: a lock is always a directory.
      if (reclaim) await fsp.rm(paths.shared, { force: true });
      return { holders: [], reclaimed: 0 };
    }
    throw new LockDirError(
      `cannot read lock folder ${ctx.dir}: ${errCode(err) ?? errorMessage(err)}`,
      errCode(err),
    );
  }
  const out: SharedHolderStatus[] = [];
  let reclaimed = 0;
  const now = Date.now();
  for (const e of entries) {
    const token = /^([A-Za-z0-9-]{1,64})\.lock$/.exec(e)?.[1];
    if (!token) continue;
    const mp = memberPaths(paths, token);
    const [gen, read] = await inspect(ctx, mp);
    if (gen.state === 'free') continue;
    const meta = metaOf(gen, read);
    const staleReason = judgeStale(ctx, gen, meta);
    if (staleReason && reclaim) {
      if (gen.state === 'held') await removeGeneration(mp.lockDir, gen.token);
      else await removeUnowned(mp.lockDir, gen);
      await fsp.rm(mp.metadata, { recursive: true, force: true });
      reclaimed++;
      await record(ctx, paths, {
        type: 'takeover',
        at: new Date().toISOString(),
        by: currentIdentity(),
        reason: `shared holder: ${staleReason}`,
        previous: meta && summarize(meta.holder),
      });
      continue;
    }
    out.push({
      ...(meta
        ? { holder: meta.holder }
        : {
            metadataProblem:
              read.state === 'corrupt' ? `metadata unreadable: ${read.error}` : 'no metadata: holder unknown',
          }),
      stale: !!staleReason,
      ...(staleReason ? { staleReason } : {}),
      heartbeatAgeMs: Math.max(0, now - gen.heartbeatMs),
    });
  }
  if (reclaim) {
    for (const e of entries) {
      const token = /^([A-Za-z0-9-]{1,64})\.json$/.exec(e)?.[1];
      if (!token || entries.includes(`${token}.lock`)) continue;
      const st = await fsp.lstat(join(paths.shared, e)).catch(() => undefined);
      if (st && now - st.mtimeMs > ctx.staleMs)
        await fsp.rm(join(paths.shared, e), { recursive: true, force: true });
    }
  }
  return { holders: out, reclaimed };
}
