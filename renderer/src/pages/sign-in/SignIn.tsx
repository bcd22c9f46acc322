/** Sign-in for the admin pages in a browser: a Matrix admin account's username and password. */
import { useState, type FormEvent } from 'react';
import { adminApi } from '../../api/admin.ts';
import { ApiError } from '../../api/client.ts';
import type { Session } from '../../api/session.ts';
import { ActionFeedback, Button, Logo, Notice, TextField } from '../../components/ui.tsx';

export function SignIn(props: { serverName?: string; onSignedIn: (s: Session) => void; notice?: string }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (!username.trim() || !password) {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const r = await adminApi.login(username.trim(), password);
      props.onSignedIn({ userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id });
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.errcode === 'M_FORBIDDEN') {
        setError(/admin/.test(err.message) ? 'This account is not an admin of this server. Ask your server’s admin for help.' : 'That username and password don’t match. Check them and try again.');
      } else if (err instanceof ApiError && err.errcode === 'M_LIMIT_EXCEEDED') {
        setError('Too many attempts. Wait a minute, then try again.');
      } else {
        setError(err instanceof Error ? err.message : 'Something went wrong.');
      }
    }
  };

  return (
    <main className="centered">
      <form className="card sign-in" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="sign-in-heading">
        <div className="brand brand-large">
          <Logo />
          <span>Hearth</span>
        </div>
        <h1 id="sign-in-heading">Sign in to manage {props.serverName ? <span className="mono nowrap">{props.serverName}</span> : 'your server'}</h1>
        <p className="muted">Use your admin account — the one you created during setup.</p>
        {props.notice && <Notice tone="info">{props.notice}</Notice>}
        <TextField label="Username" value={username} onChange={setUsername} autoComplete="username" autoCapitalize="none" spellCheck={false} autoFocus />
        <TextField label="Password" type="password" value={password} onChange={setPassword} autoComplete="current-password" />
        <ActionFeedback error={error} />
        <Button type="submit" busy={busy} className="btn-block">
          {busy ? 'Signing in…' : 'Sign in'}
        </Button>
      </form>
    </main>
  );
}
