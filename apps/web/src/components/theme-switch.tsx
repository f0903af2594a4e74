import { type ReactNode, useId, useSyncExternalStore } from 'react';
import {
  getThemeChoice,
  setThemeChoice,
  subscribeThemeChoice,
  THEME_CHOICES,
  type ThemeChoice,
} from '../lib/theme.ts';
import { MonitorIcon, MoonIcon, SunIcon } from './icons.tsx';

const OPTIONS: Record<ThemeChoice, { label: string; icon: ReactNode }> = {
  system: { label: 'System', icon: <MonitorIcon width={16} height={16} /> },
  light: { label: 'Light', icon: <SunIcon width={16} height={16} /> },
  dark: { label: 'Dark', icon: <MoonIcon width={16} height={16} /> },
};

interface ThemeSwitchProps {
  /** Shows the option names next to their icons. Default: icons only (names for screen readers and as tooltips). */
  labelled?: boolean;
}

/**
 * System / Light / Dark, as native radio buttons: arrow keys move the choice,
 * and screen readers announce "Theme, radio group, Dark, selected".
 */
export function ThemeSwitch({ labelled = false }: ThemeSwitchProps) {
  const choice = useSyncExternalStore(subscribeThemeChoice, getThemeChoice);
  const name = useId();
  return (
    <fieldset className="theme-switch" data-labelled={labelled || undefined}>
      <legend className="sr-only">Theme</legend>
      {THEME_CHOICES.map((option) => (
        <label key={option} title={labelled ? undefined : `${OPTIONS[option].label} theme`}>
          <input
            type="radio"
            name={name}
            value={option}
            checked={choice === option}
            onChange={() => setThemeChoice(option)}
          />
          {OPTIONS[option].icon}
          <span className={labelled ? undefined : 'sr-only'}>{OPTIONS[option].label}</span>
        </label>
      ))}
    </fieldset>
  );
}
