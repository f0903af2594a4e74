/** The bot's settings, read from the environment once, here. */
export interface BotConfig {
  /** PNEUMATIC_URL: the server, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** BOT_USERNAME: the bot's account, created on first start. */
  username: string;
  /** BOT_PASSWORD: its password. */
  password: string;
  /** BOT_FULL_NAME: the name people see. Default: the username. */
  fullName: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): BotConfig {
  const url = env.PNEUMATIC_URL ?? 'http://127.0.0.1:8000';
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new ConfigError(`PNEUMATIC_URL must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
  }
  const username = env.BOT_USERNAME ?? '';
  if (!/^[A-Za-z0-9_.-]{3,32}$/.test(username)) {
    throw new ConfigError('BOT_USERNAME must be 3 to 32 letters, digits, _ . or -');
  }
  const password = env.BOT_PASSWORD ?? '';
  if (password === '') throw new ConfigError('BOT_PASSWORD must be set');
  return { url, username, password, fullName: env.BOT_FULL_NAME?.trim() || username };
}
