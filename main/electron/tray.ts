/** Draws tray-model.ts's model with Electron's Tray and Menu; no decisions here. */
import { Menu, Tray, nativeImage } from 'electron';
import { join } from 'node:path';
import type { TrayAction, TrayModel } from '../tray-model.ts';
import { HEARTH_ROOT } from '../../server/paths.ts';

const iconPath = (icon: TrayModel['icon']): string => join(HEARTH_ROOT, 'assets', `tray-${icon}.png`);

export function createTray(initial: TrayModel, onAction: (a: TrayAction) => void): { update(m: TrayModel): void } {
  const tray = new Tray(nativeImage.createFromPath(iconPath(initial.icon)));
  tray.on('click', () => onAction('open'));
  const update = (m: TrayModel): void => {
    tray.setImage(nativeImage.createFromPath(iconPath(m.icon)));
    tray.setToolTip(m.tooltip);
    tray.setContextMenu(
      Menu.buildFromTemplate(
        m.items.map((i) =>
          i.kind === 'separator'
            ? { type: 'separator' as const }
            : i.kind === 'label'
              ? { label: i.label, enabled: false }
              : { label: i.label, enabled: i.enabled, click: () => onAction(i.action) },
        ),
      ),
    );
  };
  update(initial);
  return { update };
}
