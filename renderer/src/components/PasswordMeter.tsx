/** The strength bar under a new password: colour plus words, announced politely to screen readers. */
import { passwordStrength } from './password-strength.ts';

export function PasswordMeter(props: { password: string; context: string[]; id?: string }) {
  const s = passwordStrength(props.password, props.context);
  return (
    <div className="meter" id={props.id}>
      <div className={`meter-bar meter-${s.score}${props.password ? '' : ' meter-empty'}`} aria-hidden="true">
        {[0, 1, 2, 3].map((i) => (
          <span key={i} className={props.password && i < Math.max(s.score, 1) ? 'on' : ''} />
        ))}
      </div>
      <p className="meter-text" aria-live="polite">
        {s.label && <strong>{s.label}. </strong>}
        {s.hint}
      </p>
    </div>
  );
}
