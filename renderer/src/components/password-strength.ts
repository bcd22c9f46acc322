/**
 * A small, honest password strength estimate for the setup wizard and user creation: length
 * counts most; common words, repeats and sequences, and the username itself count against it.
 * It guides, it does not forbid (the server requires at least 8 characters).
 */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: StrengthScore;
  label: string;
  hint: string;
}

const COMMON = ['password', 'passwort', 'qwerty', 'azerty', 'letmein', 'welcome', 'admin', 'iloveyou', 'monkey', 'dragon', 'sunshine', 'football', 'princess', 'hearth', 'matrix', '123456', '111111', 'abc123', 'family'];
const LABELS = ['Too weak', 'Weak', 'Fair', 'Good', 'Strong'] as const;

export function passwordStrength(password: string, context: string[] = []): Strength {
  if (password.length === 0) return { score: 0, label: '', hint: 'Use at least 12 characters. A few unrelated words make a strong, memorable password.' };
  const lower = password.toLowerCase();
  let classes = 0;
  if (/[a-z]/.test(password)) classes++;
  if (/[A-Z]/.test(password)) classes++;
  if (/[0-9]/.test(password)) classes++;
  if (/[^A-Za-z0-9]/.test(password)) classes++;
  const unique = new Set(password).size;
  // Rough entropy: pool size by character classes, discounted for few distinct characters.
  const pool = (/[a-z]/.test(password) ? 26 : 0) + (/[A-Z]/.test(password) ? 26 : 0) + (/[0-9]/.test(password) ? 10 : 0) + (/[^A-Za-z0-9]/.test(password) ? 20 : 0);
  let bits = Math.log2(Math.max(pool, 2)) * Math.min(password.length, unique * 2);
  const weakParts = [...COMMON, ...context.map((c) => c.toLowerCase()).filter((c) => c.length >= 3)];
  let hint = '';
  if (weakParts.some((w) => lower.includes(w))) {
    bits -= 20;
    hint = 'Avoid common words and your own name or username.';
  }
  if (/(.)\1{2,}/.test(password) || /(?:0123|1234|2345|3456|4567|5678|6789|abcd|bcde|cdef|qwer|asdf)/.test(lower)) {
    bits -= 12;
    hint ||= 'Avoid repeated characters and sequences like 1234.';
  }
  let score: StrengthScore = bits < 28 ? 0 : bits < 40 ? 1 : bits < 55 ? 2 : bits < 70 ? 3 : 4;
  if (password.length < 8) score = 0;
  else if (password.length < 12 && score > 2) score = 2;
  if (!hint) {
    if (password.length < 8) hint = 'At least 8 characters are required; 12 or more is better.';
    else if (score < 3) hint = classes < 3 ? 'Make it longer, or mix in more words, numbers or symbols.' : 'Make it a little longer.';
    else hint = score === 4 ? 'A strong password. Keep it somewhere safe.' : 'A good password.';
  }
  return { score, label: LABELS[score], hint };
}
