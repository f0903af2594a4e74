import { avatarHue, initials } from '../lib/format.ts';

interface AvatarProps {
  /** Seeds the colour. */
  id: string;
  name: string;
  group?: boolean;
  size?: 'sm' | 'md' | 'lg';
  /** Shows a presence dot: green when online, none when offline or unknown. */
  online?: boolean;
}

/** Initials on a colour picked from the id; decorative, the name (and presence) is always written nearby. */
export function Avatar({ id, name, group = false, size = 'md', online }: AvatarProps) {
  return (
    <span
      className={`avatar avatar-${size}`}
      data-hue={avatarHue(id)}
      data-group={group || undefined}
      aria-hidden="true"
    >
      {group ? '👥' : initials(name)}
      {online && <span className="presence-dot" />}
    </span>
  );
}
