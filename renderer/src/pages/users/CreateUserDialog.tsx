/**
 * Create an account: a username, an optional display name, admin or not, and a first password
 * generated here (or typed) to hand over. Synapse's PUT /v2/users/{id} would also *modify* an
 * existing account, so the username is checked to be free first.
 */
import { useState, type FormEvent } from 'react';
import { ApiError } from '../../api/client.ts';
import { synapseApi } from '../../api/synapse.ts';
import { useAction, useAdmin } from '../../api/context.tsx';
import { Dialog } from '../../components/Dialog.tsx';
import { localpart } from '../../components/format.ts';
import { generatePassword } from '../../components/generate-password.ts';
import { Checkbox } from '../../components/page.tsx';
import { ActionFeedback, Button, Notice, TextField } from '../../components/ui.tsx';
import { Handover, useServerAddress } from './handover.tsx';

const USERNAME = /^[a-z0-9._=/+-]+$/;

export function CreateUserDialog(props: { onClose: (created: boolean) => void }) {
  const { serverName, session } = useAdmin();
  const server = serverName ?? session.userId.replace(/^[^:]*:/, '');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [admin, setAdmin] = useState(false);
  const [password, setPassword] = useState(generatePassword);
  const [problem, setProblem] = useState<string>();
  const [created, setCreated] = useState<string>();
  const action = useAction();
  const address = useServerAddress();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    const name = localpart(username.trim().toLowerCase());
    if (!name) return setProblem('Choose a username.');
    if (!USERNAME.test(name)) return setProblem('Use only lowercase letters, digits and . _ - = / +');
    if (password.length < 8) return setProblem('The password needs at least 8 characters.');
    setProblem(undefined);
    const userId = `@${name}:${server}`;
    const done = await action.run(async (t) => {
      const free = await synapseApi.usernameAvailable(t, name).catch((err: unknown) => {
        if (err instanceof ApiError && err.errcode === 'M_USER_IN_USE') return { available: false };
        throw err;
      });
      if (!free.available) throw new Error(`The username “${name}” is already taken. Choose another one.`);
      await synapseApi.createUser(t, userId, { password, displayname: displayName.trim() || undefined, admin });
      return userId;
    });
    if (done) setCreated(done);
  };

  if (created) {
    return (
      <Dialog title="Account created" onClose={() => props.onClose(true)}>
        <Notice tone="success">
          <strong>{displayName.trim() || created}</strong> can sign in now. Give them these details — this is the only time the password is shown.
        </Notice>
        <Handover userId={created} password={password} address={address} />
        <div className="dialog-actions">
          <Button onClick={() => props.onClose(true)}>Done</Button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title="Create an account" onClose={() => props.onClose(false)}>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label="Username"
          value={username}
          onChange={setUsername}
          suffix={`:${server}`}
          prefix="@"
          help="What they type to sign in. Lowercase letters, digits and . _ - only; it cannot be changed later."
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          autoFocus
          error={problem && /username|taken/i.test(problem) ? problem : undefined}
        />
        <TextField label="Display name (optional)" value={displayName} onChange={setDisplayName} help="The name others see, such as “Grandma” or “Sam Smith”." autoComplete="off" />
        <TextField
          label="First password"
          value={password}
          onChange={setPassword}
          className="input mono"
          help="Made up for you. Hand it over with the username; they can change it in their app."
          autoComplete="off"
          spellCheck={false}
          error={problem && /password/i.test(problem) ? problem : undefined}
        >
          <div className="field-after">
            <Button kind="quiet" className="btn-small" onClick={() => setPassword(generatePassword())}>
              Make a new one
            </Button>
          </div>
        </TextField>
        <Checkbox label="Make this person an admin" checked={admin} onChange={setAdmin} help="Admins can manage accounts, rooms and settings. Most family members don’t need this." />
        {problem && !/username|taken|password/i.test(problem) && (
          <Notice tone="error" live>
            {problem}
          </Notice>
        )}
        <ActionFeedback error={action.error} />
        <div className="dialog-actions">
          <Button kind="secondary" onClick={() => props.onClose(false)}>
            Cancel
          </Button>
          <Button type="submit" busy={action.busy}>
            Create account
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
