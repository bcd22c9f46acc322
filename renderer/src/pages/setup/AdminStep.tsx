import { useId } from 'react';
import { PasswordMeter } from '../../components/PasswordMeter.tsx';
import { TextField } from '../../components/ui.tsx';
import { stepProblems, type StepProps } from './model.ts';

export function AdminStep({ data, update, setup, showErrors }: StepProps) {
  const problems = showErrors ? stepProblems('admin', data, setup) : {};
  const meterId = useId();
  const server = (setup.serverNameLocked ? setup.serverName : data.serverName) || 'your.server';
  return (
    <>
      <p>
        This is the account you’ll use to look after Hearth: add family members, reset forgotten passwords, and change settings. It is
        also a normal chat account.
      </p>
      <TextField
        label="Username"
        value={data.username}
        onChange={(v) => update({ username: v.toLowerCase() })}
        error={problems.username}
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        prefix="@"
        suffix={`:${server}`}
        autoFocus
      />
      <TextField
        label="Password"
        type="password"
        value={data.password}
        onChange={(v) => update({ password: v })}
        error={problems.password}
        autoComplete="new-password"
        aria-describedby={meterId}
      >
        <PasswordMeter id={meterId} password={data.password} context={[data.username, data.serverName]} />
      </TextField>
      <TextField
        label="Password again"
        type="password"
        value={data.confirm}
        onChange={(v) => update({ confirm: v })}
        error={problems.confirm}
        autoComplete="new-password"
      />
    </>
  );
}
