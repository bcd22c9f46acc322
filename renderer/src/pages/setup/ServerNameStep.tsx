import { Notice, TextField } from '../../components/ui.tsx';
import { stepProblems, type StepProps } from './model.ts';
import { isHomeOnlyName, serverNameProblem } from './validation.ts';

export function ServerNameStep({ data, update, setup, showErrors }: StepProps) {
  if (setup.serverNameLocked) {
    return (
      <>
        <p>
          This server’s name is <strong className="mono">{setup.serverName}</strong>. It was set when Hearth was started (with{' '}
          <code>--server-name</code> or a settings file), so it is fixed here.
        </p>
        <Notice tone="info">Everyone’s address will end in <span className="mono">:{setup.serverName}</span>.</Notice>
      </>
    );
  }
  const name = data.serverName.trim();
  const problem = showErrors ? stepProblems('name', data, setup).serverName : name && serverNameProblem(name);
  return (
    <>
      <p>
        The server name is the last part of everyone’s address. If you choose <span className="mono">smith.family</span>, your address
        will look like <span className="mono">@anna:smith.family</span>.
      </p>
      <div className="two-up">
        <div className="option-explainer">
          <h3>A domain you own</h3>
          <p>
            Such as <span className="mono">smith.family</span>. Needed to talk with people on matrix.org and other servers. You’ll point the
            domain at this computer.
          </p>
        </div>
        <div className="option-explainer">
          <h3>A home-only name</h3>
          <p>
            Such as <span className="mono">hearth.home.arpa</span>. Simple, works on your home network, but other servers can never
            reach it.
          </p>
        </div>
      </div>
      <TextField
        label="Server name"
        value={data.serverName}
        onChange={(v) => update({ serverName: v.trim().toLowerCase() === v.trim() ? v.trim() : v })}
        error={problem || undefined}
        placeholder="e.g. smith.family"
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        inputMode="url"
        autoFocus
        className="input mono"
      >
        {name && !problem && (
          <p className="field-preview">
            Addresses will look like <span className="mono">@anna:{name}</span>
            {isHomeOnlyName(name) ? ' — a home-only name.' : '.'}
          </p>
        )}
      </TextField>
      <Notice tone="warning" title="This cannot be changed later">
        The name is built into every account and message. Changing it would mean starting again with a new server, so take a moment to
        choose.
      </Notice>
    </>
  );
}
