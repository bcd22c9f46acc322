import type { StepProps } from './model.ts';

export function WelcomeStep(_: StepProps) {
  return (
    <>
      <p className="lead">
        Hearth is your family’s own chat server. Messages, photos and calls stay on this computer instead of someone else’s, and everyone
        uses a free Matrix app such as Element to talk.
      </p>
      <p>Setting it up takes a few minutes. We’ll ask six questions and explain each one. You can change every answer later, except the server name.</p>
      <ul className="checklist">
        <li>Pick a name for your server</li>
        <li>Create your admin account</li>
        <li>Decide how phones and computers connect, and who can join</li>
      </ul>
    </>
  );
}
