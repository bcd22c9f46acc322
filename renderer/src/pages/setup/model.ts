/** The wizard's answers and the order of its steps. */
import type { RegistrationMode, SetupStateResponse } from '../../../../server/api/admin/hearth/types.ts';
import { tlsDraft, tlsDraftProblems, type TlsDraft } from '../tls/tls-choice.tsx';
import { serverNameProblem, usernameProblem } from './validation.ts';

export interface WizardData {
  serverName: string;
  username: string;
  password: string;
  confirm: string;
  /** The TLS choice; applied after setup through the TLS API (FinishTls.tsx). */
  tls: TlsDraft;
  registration: RegistrationMode;
  federationEnabled: boolean;
}

export interface StepProps {
  data: WizardData;
  update: (patch: Partial<WizardData>) => void;
  setup: SetupStateResponse;
  /** Errors shown once the person tried to continue. */
  showErrors: boolean;
  goTo: (step: StepId) => void;
}

export const STEPS = [
  { id: 'welcome', title: 'Welcome' },
  { id: 'name', title: 'Server name' },
  { id: 'admin', title: 'Your admin account' },
  { id: 'reach', title: 'Connecting devices' },
  { id: 'registration', title: 'New accounts' },
  { id: 'federation', title: 'Other servers' },
  { id: 'summary', title: 'Review' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

export function initialData(setup: SetupStateResponse): WizardData {
  return {
    serverName: setup.serverNameLocked || (setup.serverName && setup.serverName !== 'localhost') ? (setup.serverName ?? '') : '',
    username: 'admin',
    password: '',
    confirm: '',
    tls: tlsDraft('none'),
    registration: 'closed',
    federationEnabled: false,
  };
}

export const MIN_PASSWORD = 8;

/** The first problem that keeps a step from moving on, or undefined. */
export function stepProblems(step: StepId, d: WizardData, setup: SetupStateResponse): Record<string, string> {
  const p: Record<string, string> = {};
  if (step === 'name' && !setup.serverNameLocked) {
    const e = serverNameProblem(d.serverName);
    if (e) p.serverName = e;
  }
  if (step === 'admin') {
    const u = usernameProblem(d.username);
    if (u) p.username = u;
    if (d.password.length < MIN_PASSWORD) p.password = `Use at least ${MIN_PASSWORD} characters.`;
    else if (d.confirm !== d.password) p.confirm = 'The two passwords are not the same.';
  }
  if (step === 'reach') Object.assign(p, tlsDraftProblems(d.tls));
  return p;
}

/** The server name the wizard will set. */
export function chosenServerName(d: WizardData, setup: SetupStateResponse): string {
  return setup.serverNameLocked ? (setup.serverName ?? '') : d.serverName.trim();
}
