/** What the bot says in a conversation it has just joined. */
export function greeting(name: string): string {
  return `Hi, I'm ${name}. Try /time, or /echo followed by some text.`;
}

/**
 * The bot's answer to a message, or null when the message is no command of
 * its own (most messages are talk between people and get no answer).
 */
export function answer(content: string, now: Date = new Date()): string | null {
  const match = /^\/(\w+)(?:\s+([\s\S]*))?$/.exec(content.trim());
  if (!match) return null;
  const [, command, argument = ''] = match;
  switch (command?.toLowerCase()) {
    case 'time':
      return `The time is ${now.toISOString().replace('T', ' ').slice(0, 19)} UTC.`;
    case 'echo':
      return argument.trim() === '' ? 'Usage: /echo <text>' : argument.trim();
    case 'help':
      return 'Commands: /time (the current time, UTC), /echo <text> (says it back).';
    default:
      return null;
  }
}
