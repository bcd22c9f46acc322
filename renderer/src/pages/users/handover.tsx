/**
 * What to give a person for their account: the server address, their username and password,
 * with one button to copy it all as a message. The address is the one the dashboard shows.
 */
import { adminApi } from '../../api/admin.ts';
import { useLoad } from '../../api/context.tsx';
import { localpart } from '../../components/format.ts';
import { CopyButton } from '../../components/ui.tsx';
import { deviceAddress } from '../dashboard/Dashboard.tsx';

export function useServerAddress(): string | undefined {
  const status = useLoad((t) => adminApi.status(t), []);
  return status.data ? deviceAddress(status.data) : undefined;
}

export function Handover(props: { userId: string; password: string; address?: string }) {
  const username = localpart(props.userId);
  const message = [
    `Your account on our Hearth server:`,
    props.address ? `Server address: ${props.address}` : undefined,
    `Username: ${username}  (full id ${props.userId})`,
    `Password: ${props.password}`,
    `Sign in with Element or another Matrix app, then change the password in its settings.`,
  ]
    .filter(Boolean)
    .join('\n');
  return (
    <div className="handover">
      <dl className="kv">
        {props.address && (
          <div>
            <dt>Server address</dt>
            <dd className="mono">{props.address}</dd>
          </div>
        )}
        <div>
          <dt>Username</dt>
          <dd className="mono">{username}</dd>
        </div>
        <div>
          <dt>Password</dt>
          <dd>
            <span className="mono secret" data-testid="handover-password">
              {props.password}
            </span>
          </dd>
        </div>
      </dl>
      <div className="copy-row handover-copy">
        <CopyButton text={message} label="Sign-in details">
          Copy as a message
        </CopyButton>
        <span className="small muted">To send or print.</span>
      </div>
    </div>
  );
}
