/**
 * The scanner's rules: a stable id per kind of credential (the SARIF `ruleId`, the baseline's
 * key, the name an allow comment uses), a one-line description, and how specific it is (a more
 * specific rule wins where two find the same text).
 *
 * @module
 */

/** Every rule the scanner reports. */
export const RULES = {
  'known-value': { rank: 100, description: 'A value held by a configured provider (named by its ref)' },
  'aws-access-key-id': { rank: 90, description: 'AWS access key id (AKIA/ASIA…)' },
  'aws-secret-access-key': { rank: 90, description: 'AWS secret access key in an aws_secret_access_key assignment' },
  'github-token': { rank: 90, description: 'GitHub token (ghp_, gho_, ghu_, ghs_, ghr_)' },
  'github-fine-grained-pat': { rank: 90, description: 'GitHub fine-grained personal access token (github_pat_)' },
  'gitlab-token': { rank: 90, description: 'GitLab personal, project or deploy token (glpat-, gldt-, glptt-)' },
  'slack-token': { rank: 90, description: 'Slack token (xoxb-, xoxp-, xapp- …)' },
  'slack-webhook': { rank: 90, description: 'Slack incoming-webhook URL' },
  'stripe-secret-key': { rank: 90, description: 'Stripe live secret or restricted key (sk_live_, rk_live_)' },
  'google-api-key': { rank: 90, description: 'Google API key (AIza…)' },
  'gcp-service-account-key': { rank: 95, description: 'Google Cloud service-account JSON private_key' },
  'private-key': { rank: 85, description: 'PEM private key block' },
  'npm-token': { rank: 90, description: 'npm access token (npm_)' },
  'sendgrid-api-key': { rank: 90, description: 'SendGrid API key (SG.…)' },
  'twilio-api-key': { rank: 90, description: 'Twilio API key (SK + 32 hex)' },
  'shopify-token': { rank: 90, description: 'Shopify access token (shpat_, shpca_, shppa_, shpss_)' },
  'openai-api-key': { rank: 90, description: 'OpenAI API key (sk-proj-, sk-svcacct- …)' },
  'anthropic-api-key': { rank: 91, description: 'Anthropic API key (sk-ant-)' },
  'digitalocean-token': { rank: 90, description: 'DigitalOcean token (dop_v1_, doo_v1_, dor_v1_)' },
  'huggingface-token': { rank: 90, description: 'Hugging Face access token (hf_)' },
  'pypi-token': { rank: 90, description: 'PyPI upload token (pypi-AgEIcHlwaS5vcmc…)' },
  'docker-hub-token': { rank: 90, description: 'Docker Hub personal access token (dckr_pat_)' },
  'linear-api-key': { rank: 90, description: 'Linear API key (lin_api_)' },
  'azure-storage-key': { rank: 90, description: 'Azure storage AccountKey= or SharedAccessSignature= value' },
  jwt: { rank: 70, description: 'JSON Web Token (eyJ….….…)' },
  'basic-auth': { rank: 80, description: 'Basic authorization credentials (base64 of user:password)' },
  'bearer-token': { rank: 75, description: 'Bearer token in an Authorization header or text' },
  'connection-url-password': { rank: 80, description: 'Password in a URL (scheme://user:password@host)' },
  'secret-assignment': { rank: 60, description: 'Credential-shaped value assigned to a credential-named key (password, token, api_key …)' },
  'high-entropy-assignment': { rank: 50, description: 'High-entropy string assigned to a key (Shannon entropy above the threshold)' },
} as const satisfies Record<string, { rank: number; description: string }>;

/** The id of a rule. */
export type RuleId = keyof typeof RULES;

/** Every rule id, in the order above. */
export const RULE_IDS = Object.keys(RULES) as RuleId[];

/** Whether `id` names a rule. */
export function isRuleId(id: string): id is RuleId {
  return Object.hasOwn(RULES, id);
}
