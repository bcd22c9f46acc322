/** Hearth's public surface: the desktop shell and tests start homeservers through this. */
export { createHomeserver, type Homeserver, type HomeserverOptions, type HomeserverState } from './homeserver.ts';
export { tuneRuntimeForServer } from './runtime-tuning.ts';
export { DEFAULT_SETTINGS, type Settings, type PartialSettings } from './config/settings.ts';
