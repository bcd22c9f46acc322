/**
 * The first-run setup wizard: seven steps, one question each, then one request to the server
 * (POST /setup) and, when a TLS mode was chosen, a last screen that applies it with the new admin
 * session (FinishTls.tsx). Focus moves to each step's heading so screen readers announce where you are.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { SetupResponse, SetupStateResponse } from '../../../../server/api/admin/hearth/types.ts';
import { adminApi } from '../../api/admin.ts';
import { ApiError } from '../../api/client.ts';
import { Button, Logo, Notice } from '../../components/ui.tsx';
import { AdminStep } from './AdminStep.tsx';
import { FederationStep } from './FederationStep.tsx';
import { FinishTls } from './FinishTls.tsx';
import { chosenServerName, initialData, STEPS, stepProblems, type StepId, type StepProps, type WizardData } from './model.ts';
import { ReachStep } from './ReachStep.tsx';
import { RegistrationStep } from './RegistrationStep.tsx';
import { ServerNameStep } from './ServerNameStep.tsx';
import { SummaryStep } from './SummaryStep.tsx';
import { WelcomeStep } from './WelcomeStep.tsx';

const BODIES: Record<StepId, (p: StepProps) => React.JSX.Element> = {
  welcome: WelcomeStep,
  name: ServerNameStep,
  admin: AdminStep,
  reach: ReachStep,
  registration: RegistrationStep,
  federation: FederationStep,
  summary: SummaryStep,
};

const HEADINGS: Record<StepId, string> = {
  welcome: 'Welcome to Hearth',
  name: 'Choose your server’s name',
  admin: 'Create your admin account',
  reach: 'How will devices connect?',
  registration: 'Who can create accounts?',
  federation: 'Talk to other Matrix servers?',
  summary: 'Ready to set up',
};

export function Wizard(props: { setup: SetupStateResponse; onDone: (r: SetupResponse, username: string) => void }) {
  const [index, setIndex] = useState(0);
  const [data, setData] = useState<WizardData>(() => initialData(props.setup));
  const [showErrors, setShowErrors] = useState(false);
  const [busy, setBusy] = useState(false);
  const [submitError, setSubmitError] = useState<string>();
  const [finished, setFinished] = useState<SetupResponse>();
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  const step = STEPS[index]!;

  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    heading.current?.focus();
  }, [index]);

  const goTo = (id: StepId): void => {
    setShowErrors(false);
    setSubmitError(undefined);
    setIndex(STEPS.findIndex((s) => s.id === id));
  };

  const next = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const problems = stepProblems(step.id, data, props.setup);
    if (Object.keys(problems).length > 0) {
      setShowErrors(true);
      return;
    }
    if (step.id !== 'summary') {
      setShowErrors(false);
      setIndex(index + 1);
      return;
    }
    setBusy(true);
    setSubmitError(undefined);
    try {
      const r = await adminApi.setup({
        serverName: chosenServerName(data, props.setup),
        admin: { username: data.username.trim(), password: data.password },
        // The TLS choice is applied next, through the HTTPS page's API (FinishTls.tsx): until that
        // succeeds the stored mode stays "none", which is what is really in effect.
        tlsMode: 'none',
        registration: data.registration,
        federationEnabled: data.federationEnabled,
      });
      if (data.tls.mode === 'none') props.onDone(r, data.username.trim());
      else setFinished(r);
    } catch (err) {
      setSubmitError(err instanceof ApiError ? explain(err) : 'Something went wrong. Please try again.');
      setBusy(false);
    }
  };

  const Body = BODIES[step.id];
  return (
    <div className="wizard">
      <aside className="wizard-aside">
        <div className="brand">
          <Logo />
          <span>Hearth</span>
        </div>
        <nav aria-label="Setup steps">
          <ol className="steps">
            {STEPS.map((s, i) => {
              const done = i < index || finished !== undefined;
              const current = i === index && !finished;
              return (
                <li key={s.id} className={current ? 'step-current' : done ? 'step-done' : ''} aria-current={current ? 'step' : undefined}>
                  <span className="step-marker" aria-hidden="true">
                    {done ? '✓' : i + 1}
                  </span>
                  <span>
                    {s.title}
                    {done && <span className="visually-hidden"> (done)</span>}
                  </span>
                </li>
              );
            })}
          </ol>
        </nav>
      </aside>
      <main className="wizard-main">
        {finished ? (
          <FinishTls setup={finished} draft={data.tls} onDone={(notes) => props.onDone({ ...finished, notes: [...finished.notes, ...notes] }, data.username.trim())} />
        ) : (
          <form className="card wizard-card" onSubmit={(e) => void next(e)} noValidate aria-labelledby="step-heading">
            <p className="step-count">
              Step {index + 1} of {STEPS.length}
            </p>
            <div className="progress" aria-hidden="true">
              <span className={`progress-fill progress-${index + 1}`} />
            </div>
            <h1 id="step-heading" ref={heading} tabIndex={-1}>
              {HEADINGS[step.id]}
            </h1>
            <div className="step-body">
              <Body data={data} update={(p) => setData((d) => ({ ...d, ...p }))} setup={props.setup} showErrors={showErrors} goTo={goTo} />
            </div>
            {submitError && (
              <Notice tone="error" title="Setup didn’t finish" live>
                {submitError}
              </Notice>
            )}
            <div className="actions">
              {index > 0 ? (
                <Button kind="secondary" onClick={() => goTo(STEPS[index - 1]!.id)} disabled={busy}>
                  Back
                </Button>
              ) : (
                <span />
              )}
              <Button type="submit" busy={busy}>
                {step.id === 'welcome' ? 'Get started' : step.id === 'summary' ? (busy ? 'Setting up…' : 'Finish setup') : 'Continue'}
              </Button>
            </div>
          </form>
        )}
      </main>
    </div>
  );
}

function explain(e: ApiError): string {
  if (e.errcode === 'M_USER_IN_USE') return 'That username is taken. Go back and choose another.';
  if (e.errcode === 'M_INVALID_USERNAME') return `${e.message} Go back to “Your admin account” to fix it.`;
  if (e.errcode === 'M_FORBIDDEN') return `${e.message}`;
  return e.message;
}
