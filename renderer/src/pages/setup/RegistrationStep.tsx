import type { RegistrationMode } from '../../../../server/api/admin/hearth/types.ts';
import { ChoiceCards, Notice, type Choice } from '../../components/ui.tsx';
import type { StepProps } from './model.ts';

export const REGISTRATION_CHOICES: Choice<RegistrationMode>[] = [
  {
    value: 'closed',
    title: 'Only me',
    badge: 'Recommended',
    tone: 'recommended',
    description: 'You create an account for each family member and hand them their first password.',
  },
  {
    value: 'token',
    title: 'People with an invite code',
    description: 'You make invite codes (for one person, or a few) and share them. Anyone with a valid code can create an account.',
  },
  {
    value: 'captcha',
    title: 'Anyone who passes a CAPTCHA',
    description: 'Needs a free reCAPTCHA key from Google, set on the Registration page. Keeps out most bots, not people.',
  },
  {
    value: 'open',
    title: 'Anyone',
    badge: 'Not advised',
    tone: 'caution',
    description: 'Anyone who can reach your server can create an account.',
  },
];

export function RegistrationStep({ data, update }: StepProps) {
  return (
    <>
      <p>Decide how family members get their accounts. You can change this any time in Settings.</p>
      <ChoiceCards legend="Who can create accounts?" hideLegend name="registration" value={data.registration} onChange={(v) => update({ registration: v })} choices={REGISTRATION_CHOICES} />
      {data.registration === 'open' && (
        <Notice tone="warning" title="Think twice">
          Open servers are found by spammers within days. Strangers could use your server and your internet connection. Choose this only
          if Hearth cannot be reached from the internet.
        </Notice>
      )}
    </>
  );
}
