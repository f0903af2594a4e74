import { type KeyboardEvent, type RefObject, useState } from 'react';
import { useDirectory, useMe, useSearchTerm } from '../chat-context.tsx';
import { displayName } from '../lib/format.ts';
import type { Person } from '../lib/types.ts';
import { trpc } from '../trpc.ts';
import { Avatar } from './avatar.tsx';
import { CloseIcon } from './icons.tsx';

/** Splits "alice, @bob carol" into usernames. */
export function parseUsernames(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((word) => word.replace(/^@/, '').trim())
    .filter(Boolean);
}

export interface PeoplePicker {
  entry: string;
  setEntry(entry: string): void;
  people: readonly Person[];
  setPeople(people: Person[]): void;
  error: string | null;
  setError(error: string | null): void;
  /** Everyone who could still be picked, for suggestions. */
  suggestions: readonly Person[];
  /**
   * Turns what is typed into people: adds the known ones, and stops at the
   * first unknown or refused name with the reason. Null when it stopped.
   */
  resolve(): Promise<Person[] | null>;
}

/** The word being typed: what suggestions are searched for. */
function lastWord(entry: string): string {
  return parseUsernames(entry).at(-1) ?? '';
}

/**
 * People picked by username. Suggestions are searched on the server as the
 * last word is typed; a name is checked against the server when it is added.
 */
export function usePeoplePicker({
  initial = [],
  refuse = () => null,
}: {
  initial?: Person[];
  /** Why this person cannot be picked, or null. */
  refuse?: (person: Person) => string | null;
} = {}): PeoplePicker {
  const utils = trpc.useUtils();
  const me = useMe();
  const [entry, setEntry] = useState('');
  const [people, setPeople] = useState<Person[]>(initial);
  const [error, setError] = useState<string | null>(null);
  const searched = useSearchTerm(lastWord(entry));
  const { people: found } = useDirectory(searched, { enabled: searched !== '' });

  const resolve = async (): Promise<Person[] | null> => {
    const names = parseUsernames(entry).filter(
      (name) => name.toLowerCase() !== me.data?.username.toLowerCase(),
    );
    const find = (list: readonly Person[], name: string) =>
      list.find((u) => u.username.toLowerCase() === name.toLowerCase());
    const picked = [...people];
    for (const [index, name] of names.entries()) {
      const page = await utils.users.list
        .fetch({ query: name, limit: 100 }, { staleTime: 0 })
        .catch(() => ({ users: [] as Person[] }));
      const person = find(page.users, name);
      const refusal = person
        ? refuse(person)
        : `No one is called “${name}”. Check the username and try again.`;
      if (!person || refusal) {
        setPeople(picked);
        setEntry(names.slice(index).join(' '));
        setError(refusal);
        return null;
      }
      if (!picked.some((p) => p.id === person.id)) picked.push(person);
    }
    setPeople(picked);
    setEntry('');
    setError(null);
    return picked;
  };

  const suggestions = found.filter((u) => !people.some((p) => p.id === u.id) && !refuse(u));
  return { entry, setEntry, people, setPeople, error, setError, suggestions, resolve };
}

interface PeopleFieldProps {
  picker: PeoplePicker;
  id: string;
  label: string;
  hint: string;
  placeholder: string;
  inputRef?: RefObject<HTMLInputElement | null>;
  /** Focus the box when its dialog opens. */
  autoFocus?: boolean;
}

/** The picked people as chips, and a box to type usernames into (Enter or comma adds). */
export function PeopleField({ picker, id, label, hint, placeholder, inputRef, autoFocus }: PeopleFieldProps) {
  const { entry, people, error } = picker;
  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if ((event.key === 'Enter' || event.key === ',') && entry.trim()) {
      event.preventDefault();
      void picker.resolve();
    } else if (event.key === 'Backspace' && entry === '' && people.length > 0) {
      picker.setPeople(people.slice(0, -1));
    }
  };

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <div className="chip-input" data-invalid={error ? true : undefined}>
        {people.map((user) => (
          <span key={user.id} className="chip">
            <Avatar id={user.id} name={displayName(user)} size="sm" />
            {user.username}
            <button
              type="button"
              className="chip-remove"
              aria-label={`Remove ${user.username}`}
              onClick={() => picker.setPeople(people.filter((p) => p.id !== user.id))}
            >
              <CloseIcon width={14} height={14} />
            </button>
          </span>
        ))}
        <input
          ref={inputRef}
          id={id}
          data-autofocus={autoFocus || undefined}
          list={`${id}-usernames`}
          value={entry}
          placeholder={people.length === 0 ? placeholder : 'Add another'}
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => {
            picker.setEntry(e.target.value);
            picker.setError(null);
          }}
          onKeyDown={onKeyDown}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : `${id}-hint`}
        />
        <datalist id={`${id}-usernames`}>
          {picker.suggestions.map((u) => (
            <option key={u.id} value={u.username}>
              {displayName(u)}
            </option>
          ))}
        </datalist>
      </div>
      {error ? (
        <p id={`${id}-error`} className="field-error" role="alert">
          {error}
        </p>
      ) : (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
    </div>
  );
}
