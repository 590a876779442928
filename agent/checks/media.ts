/**
 * How many media profiles (video channels and streams) does the device offer?
 * trt:GetProfiles (ONVIF Media Service, ver10). Profiles are only counted, so an NVR whose encoder
 * configurations lack Resolution is fine.
 */
import { attempt, type Check } from './types.js';

export const media: Check = {
  name: 'media',
  run: ({ client, signal }) =>
    attempt(
      () => client.profiles(signal),
      (profiles) => ({ values: { profiles: profiles.count } }),
    ),
};
