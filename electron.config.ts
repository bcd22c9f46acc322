/**
 * electron-builder configuration: AppImage and deb (Linux), NSIS (Windows), dmg (macOS).
 * Typed locally so that type-checking does not need electron-builder installed.
 */
interface BuilderConfig {
  appId: string;
  productName: string;
  directories: { output: string; buildResources: string };
  files: string[];
  linux: { target: string[]; category: string; icon: string };
  win: { target: string[]; icon: string };
  mac: { target: string[]; category: string; icon: string };
}

const config: BuilderConfig = {
  appId: 'org.hearth.homeserver',
  productName: 'Hearth',
  directories: { output: 'release', buildResources: 'assets' },
  // dist/desktop holds the main process and preload (npm run build:desktop); migrations are read at start.
  files: ['dist/desktop/**', 'renderer/dist/**', 'assets/**', 'server/storage/sqljs/migrations/**', 'package.json'],
  linux: { target: ['AppImage', 'deb'], category: 'Network', icon: 'assets/icon.png' },
  win: { target: ['nsis'], icon: 'assets/icon.png' },
  mac: { target: ['dmg'], category: 'public.app-category.social-networking', icon: 'assets/icon.png' },
};

export default config;
