/**
 * Hikvision /ISAPI/ContentMgmt/Storage (XML_storage: `hddList/hdd`, `nasList/nas`): each
 * disk's state, capacity and free space, every poll. A disk in error, smartFailed,
 * unformatted, offline or mismatch is a `storage-failure` naming the disk and what to do
 * (../disks.ts judges, isapi.ts says what each state means); an empty bay (`notexist`) is
 * nothing; `storageUsedPct` is the working disks' used share together (100 is normal on a
 * recorder that overwrites), `storages` the disks present. Recorders only (configured
 * as an NVR, or a recorder by its ISAPI deviceType): on a camera the list is its memory
 * card, which many sites leave empty or unused.
 */
import { judgeDisks } from '../disks.js';
import { isRecorder, vendorAttempt, type DriverCheck } from '../types.js';
import { diskAdvice, isapiGet, parseStorage, PATHS } from './isapi.js';

export const storage: DriverCheck = {
  name: 'hikvision-storage',
  driver: 'hikvision',
  run: async (context) => {
    if (!isRecorder(context)) return {};
    return vendorAttempt(
      `GET ${PATHS.storage}`,
      () => isapiGet(context, PATHS.storage),
      (doc) => {
        if (!doc) return {};
        const disks = parseStorage(doc);
        const verdict = judgeDisks(disks, diskAdvice);
        return { values: verdict.values, degraded: verdict.degraded, findings: { disks } };
      },
    );
  },
};
