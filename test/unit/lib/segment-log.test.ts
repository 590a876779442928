/**
 * The segment log (lib/segment-log.ts) through its conformance suite, in a folder of the
 * machine's temporary file system.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SegmentLog } from '../../../lib/segment-log.js';
import { segmentLogSuite } from '../../suites/segment-log.js';

segmentLogSuite('files', {
  make: (options) => new SegmentLog(options),
  folder: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-segment-log-'));
    return { dir, dispose: () => rm(dir, { recursive: true, force: true }) };
  },
});
