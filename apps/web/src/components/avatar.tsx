import { avatarHue, initials } from '../lib/format.ts';

interface AvatarProps {
  /** Seeds the colour. */
  id: string;
  name: string;
  group?: boolean;
  size?: 'sm' | 'md' | 'lg';
}

/** Initials on a colour picked from the id; decorative, the name is always written next to it. */
export function Avatar({ id, name, group = false, size = 'md' }: AvatarProps) {
  return (
    <span
      className={`avatar avatar-${size}`}
      data-hue={avatarHue(id)}
      data-group={group || undefined}
      aria-hidden="true"
    >
      {group ? '👥' : initials(name)}
    </span>
  );
}
