/**
 * Registration: who can create accounts (the same choice as in setup), invite codes (Synapse's
 * registration tokens, docs/admin_api/registration_tokens.md: create with a number of uses and an
 * expiry, copy an invitation, revoke, see uses), and the reCAPTCHA keys with a "test" button.
 */
import { useState, type FormEvent } from 'react';
import type { RegistrationMode } from '../../../../server/api/admin/hearth/types.ts';
import { adminApi } from '../../api/admin.ts';
import { synapseApi } from '../../api/synapse.ts';
import { useAction, useLoad } from '../../api/context.tsx';
import type { RegistrationToken } from '../../api/wire.ts';
import { ConfirmDialog } from '../../components/Dialog.tsx';
import { formatDateTime, relativeTime } from '../../components/format.ts';
import { ACTIONS_COLUMN, Checkbox, DataTable, EmptyState, PageHeader, Pill, Section, SelectField } from '../../components/page.tsx';
import { ActionFeedback, Button, ChoiceCards, CopyButton, LoadState, Notice, SaveFooter, TextField } from '../../components/ui.tsx';
import { useServerAddress } from '../users/handover.tsx';
import { REGISTRATION_CHOICES } from '../setup/RegistrationStep.tsx';

export function RegistrationPage() {
  const settings = useLoad((t) => adminApi.settings(t), []);
  const mode = settings.data?.effective.registration as RegistrationMode | undefined;
  return (
    <>
      <PageHeader title="Registration" intro="Decide how new people get an account, and manage invite codes and the CAPTCHA." />
      <LoadState load={settings} label="Loading settings…" errorTitle="Couldn’t load the settings">
        {(s) =>
          mode && (
            <div className="stack">
              <ModeSection mode={mode} pinned={s.overridden.includes('registration')} onSaved={() => void settings.reload()} />
              <InviteCodes active={mode === 'token'} />
              <CaptchaSection active={mode === 'captcha'} />
            </div>
          )
        }
      </LoadState>
    </>
  );
}

function ModeSection(props: { mode: RegistrationMode; pinned: boolean; onSaved: () => void }) {
  const [choice, setChoice] = useState<RegistrationMode>(props.mode);
  const [saved, setSaved] = useState(false);
  const action = useAction();
  const save = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    const r = await action.run((t) => adminApi.updateSettings(t, { registration: choice }));
    if (r) {
      setSaved(true);
      props.onSaved();
    }
  };
  return (
    <Section title="Who can create accounts?">
      <form onSubmit={(e) => void save(e)}>
        {props.pinned && (
          <Notice tone="warning" title="Set when Hearth was started">
            A command-line flag or the settings file chooses this, so a change here has no effect until it is removed there.
          </Notice>
        )}
        <ChoiceCards legend="Who can create accounts?" hideLegend name="registration-mode" value={choice} onChange={(v) => (setChoice(v), setSaved(false))} choices={REGISTRATION_CHOICES} />
        {choice === 'open' && (
          <Notice tone="warning" title="Think twice">
            Open servers are found by spammers within days. Choose this only if Hearth cannot be reached from the internet.
          </Notice>
        )}
        <SaveFooter action={action} success={saved && 'Saved. New sign-ups follow this choice from now on.'} disabled={choice === props.mode && !action.error} />
      </form>
    </Section>
  );
}

const EXPIRY = [
  { value: '1', label: 'In 1 day' },
  { value: '7', label: 'In 7 days' },
  { value: '30', label: 'In 30 days' },
  { value: 'never', label: 'Never' },
] as const;
type Expiry = (typeof EXPIRY)[number]['value'];

function tokenState(t: RegistrationToken, now = Date.now()): { label: string; tone: 'ok' | 'neutral' | 'warn' } {
  if (t.expiry_time !== null && t.expiry_time <= now) return { label: 'Expired', tone: 'neutral' };
  if (t.uses_allowed !== null && t.completed >= t.uses_allowed) return { label: 'Used up', tone: 'neutral' };
  return { label: 'Active', tone: 'ok' };
}

function InviteCodes(props: { active: boolean }) {
  const codes = useLoad((t) => synapseApi.registrationTokens(t), []);
  const [uses, setUses] = useState('1');
  const [unlimited, setUnlimited] = useState(false);
  const [expiry, setExpiry] = useState<Expiry>('7');
  const [showOld, setShowOld] = useState(false);
  const [fresh, setFresh] = useState<string>();
  const [revoking, setRevoking] = useState<RegistrationToken>();
  const create = useAction();
  const revoke = useAction();
  const address = useServerAddress();

  const usesNumber = Number(uses);
  const usesProblem = !unlimited && (!Number.isInteger(usesNumber) || usesNumber < 1 || usesNumber > 1000) ? 'Enter a number from 1 to 1000.' : undefined;

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (usesProblem) return;
    const t = await create.run((tok) =>
      synapseApi.createRegistrationToken(tok, { uses_allowed: unlimited ? null : usesNumber, expiry_time: expiry === 'never' ? null : Date.now() + Number(expiry) * 86_400_000 }),
    );
    if (t) {
      setFresh(t.token);
      void codes.reload();
    }
  };

  const all = codes.data?.registration_tokens ?? [];
  const shown = [...all].filter((t) => showOld || tokenState(t).label === 'Active').sort((a, b) => (b.expiry_time ?? Infinity) - (a.expiry_time ?? Infinity));
  const invitation = (code: string): string =>
    [
      'You’re invited to our family’s chat server.',
      address ? `In Element (or another Matrix app), choose “Create account”, change the server to ${address}` : 'In Element (or another Matrix app), choose “Create account” and change the server to ours',
      `and enter this invite code when asked: ${code}`,
    ].join('\n');

  return (
    <Section
      title="Invite codes"
      intro="A code lets someone create their own account. Choose how many people may use it and for how long."
    >
      {!props.active && (
        <Notice tone="info">
          Invite codes only work while <strong>People with an invite code</strong> is chosen above.
        </Notice>
      )}
      <form className="inline-form" onSubmit={(e) => void submit(e)} noValidate aria-label="Create an invite code">
        <TextField label="Number of uses" type="number" min={1} max={1000} value={unlimited ? '' : uses} onChange={setUses} disabled={unlimited} error={usesProblem} inputMode="numeric" />
        <SelectField label="Expires" value={expiry} onChange={setExpiry} options={[...EXPIRY]} />
        <Checkbox label="Any number of uses" checked={unlimited} onChange={setUnlimited} />
        <Button type="submit" busy={create.busy}>
          Create invite code
        </Button>
      </form>
      <ActionFeedback error={create.error} />
      {fresh && (
        <Notice tone="success" title="Invite code created — send it with the invitation, which includes the server address" live>
          <div className="copy-row">
            <span className="mono address-big" data-testid="new-invite-code">
              {fresh}
            </span>
            <CopyButton text={fresh} label="Invite code" />
            <CopyButton text={invitation(fresh)} label="Invitation message">
              Copy invitation
            </CopyButton>
          </div>
        </Notice>
      )}
      <LoadState load={codes} label="Loading invite codes…" errorTitle="Couldn’t load the invite codes" />
      {codes.data && shown.length === 0 && (
        <EmptyState title={all.length ? 'No active invite codes' : 'No invite codes yet'} icon="registration">
          Create one above, then send it to the person you are inviting.
        </EmptyState>
      )}
      {shown.length > 0 && (
        <DataTable caption="Invite codes" columns={['Code', 'Used', 'Expires', 'Status', ACTIONS_COLUMN]}>
          {shown.map((t) => {
            const state = tokenState(t);
            return (
              <tr key={t.token} className={state.label === 'Active' ? undefined : 'row-muted'}>
                <td className="mono">{t.token}</td>
                <td className="nowrap">
                  {t.completed} of {t.uses_allowed ?? 'unlimited'}
                  {t.pending > 0 && <span className="muted small"> ({t.pending} in progress)</span>}
                </td>
                <td className="nowrap">{t.expiry_time === null ? 'Never' : <span title={formatDateTime(t.expiry_time)}>{relativeTime(t.expiry_time)}</span>}</td>
                <td>
                  <Pill tone={state.tone}>{state.label}</Pill>
                </td>
                <td className="cell-actions">
                  {state.label === 'Active' && <CopyButton text={invitation(t.token)} label={`Invitation with code ${t.token}`} />}
                  <Button kind="quiet" className="btn-small" onClick={() => setRevoking(t)}>
                    {state.label === 'Active' ? 'Revoke' : 'Remove'}
                    <span className="visually-hidden"> {t.token}</span>
                  </Button>
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
      {all.length > 0 && <Checkbox label="Show used and expired codes" checked={showOld} onChange={setShowOld} />}
      {revoking && (
        <ConfirmDialog
          title={`Revoke invite code ${revoking.token}?`}
          confirmLabel="Revoke"
          danger
          busy={revoke.busy}
          error={revoke.error}
          onClose={() => setRevoking(undefined)}
          onConfirm={() =>
            void revoke.run((t) => synapseApi.deleteRegistrationToken(t, revoking.token)).then((r) => {
              if (!r) return;
              setRevoking(undefined);
              if (fresh === revoking.token) setFresh(undefined);
              void codes.reload();
            })
          }
        >
          <p>Nobody can create an account with this code any more. Accounts already created with it stay.</p>
        </ConfirmDialog>
      )}
    </Section>
  );
}

function CaptchaSection(props: { active: boolean }) {
  const captcha = useLoad((t) => adminApi.captcha(t), []);
  const [siteKey, setSiteKey] = useState<string>();
  const [secret, setSecret] = useState('');
  const [saved, setSaved] = useState(false);
  const save = useAction();
  const test = useAction();
  const [result, setResult] = useState<{ ok: boolean; message: string }>();
  const c = captcha.data;
  const key = siteKey ?? c?.siteKey ?? '';

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setSaved(false);
    setResult(undefined);
    const body: { siteKey?: string | null; secretKey?: string } = { siteKey: key.trim() || null };
    if (secret.trim()) body.secretKey = secret.trim();
    const r = await save.run((t) => adminApi.updateCaptcha(t, body));
    if (r) {
      captcha.setData(r);
      setSecret('');
      setSiteKey(undefined);
      setSaved(true);
    }
  };

  return (
    <Section title="CAPTCHA" intro="With “Anyone who passes a CAPTCHA”, new people solve Google’s reCAPTCHA (v2, “I’m not a robot”) while signing up.">
      <LoadState load={captcha} label="Loading the CAPTCHA settings…" errorTitle="Couldn’t load the CAPTCHA settings" />
      {c && (
        <form onSubmit={(e) => void submit(e)} noValidate>
          {props.active && (!c.siteKey || !c.secretKeySet) && (
            <Notice tone="warning" title="Sign-up is blocked until both keys are set">
              Nobody can pass the CAPTCHA without a site key and a secret key.
            </Notice>
          )}
          <p className="small muted">Get both keys free at the reCAPTCHA admin console (google.com/recaptcha/admin), for the address people use to reach this server.</p>
          <div className="two-up">
            <TextField label="Site key" value={key} onChange={(v) => (setSiteKey(v), setSaved(false))} className="input mono" autoComplete="off" spellCheck={false} />
            <TextField
              label="Secret key"
              type="password"
              value={secret}
              onChange={(v) => (setSecret(v), setSaved(false))}
              placeholder={c.secretKeySet ? 'Saved — type to replace' : ''}
              help={c.secretKeySet ? 'A secret key is saved. It is never shown again.' : undefined}
              autoComplete="off"
            />
          </div>
          <ActionFeedback error={save.error} success={saved && 'CAPTCHA keys saved.'} />
          <ActionFeedback error={test.error} />
          {result && (
            <Notice tone={result.ok ? 'success' : 'error'} title={result.ok ? 'reCAPTCHA accepts the secret key' : 'The test failed'} live>
              {result.message}
            </Notice>
          )}
          <div className="form-actions">
            <Button type="submit" busy={save.busy}>
              Save keys
            </Button>
            <Button
              kind="secondary"
              busy={test.busy}
              disabled={!c.secretKeySet}
              onClick={() => {
                setResult(undefined);
                void test.run((t) => adminApi.testCaptcha(t)).then((r) => r && setResult(r));
              }}
            >
              Test
            </Button>
          </div>
        </form>
      )}
    </Section>
  );
}
