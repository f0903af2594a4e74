import {
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { MoreIcon } from './icons.tsx';

export interface MenuItem {
  label: string;
  icon?: ReactNode;
  danger?: boolean;
  onSelect(): void;
}

interface MenuProps {
  /** Names the button and the menu, e.g. "Message actions". */
  label: string;
  items: readonly MenuItem[];
  className?: string;
  /** Which edge of the button the menu lines up with. Default `end`. */
  align?: 'start' | 'end';
}

/**
 * A button that opens a list of actions, as the ARIA menu button pattern
 * has it: Enter, Space or ArrowDown open it on the first item; arrows, Home
 * and End move; Escape closes it and returns to the button; Tab or a click
 * elsewhere closes it.
 */
export function Menu({ label, items, className, align = 'end' }: MenuProps) {
  const [open, setOpen] = useState(false);
  const [above, setAbove] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const id = useId();

  // Open upwards when there is no room below (the last messages, the bottom of a scrolled pane).
  useLayoutEffect(() => {
    const menu = menuRef.current;
    if (!open || !menu) return;
    const scroller = menu.closest('.messages, .sidebar-list');
    const bottom = scroller ? scroller.getBoundingClientRect().bottom : window.innerHeight;
    if (menu.getBoundingClientRect().bottom > bottom) setAbove(true);
    menu.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menuRef.current?.contains(target) && !buttonRef.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  const toggle = (next: boolean) => {
    setAbove(false);
    setOpen(next);
  };

  const onMenuKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const entries = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const index = entries.indexOf(document.activeElement as HTMLElement);
    const focus = (i: number) => entries[(i + entries.length) % entries.length]?.focus();
    if (event.key === 'ArrowDown') focus(index + 1);
    else if (event.key === 'ArrowUp') focus(index - 1);
    else if (event.key === 'Home') focus(0);
    else if (event.key === 'End') focus(entries.length - 1);
    else if (event.key === 'Escape') {
      // Escape closes the menu only, not a dialog or editor around it.
      event.stopPropagation();
      setOpen(false);
      buttonRef.current?.focus();
    } else if (event.key === 'Tab') {
      setOpen(false);
      return;
    } else return;
    event.preventDefault();
  };

  return (
    <div className={`menu-anchor${className ? ` ${className}` : ''}`} data-open={open || undefined}>
      <button
        ref={buttonRef}
        type="button"
        className="icon-button menu-button"
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => toggle(!open)}
        onKeyDown={(event) => {
          if (event.key === 'ArrowDown' && !open) {
            event.preventDefault();
            toggle(true);
          }
        }}
      >
        <MoreIcon />
      </button>
      {open && (
        <div
          ref={menuRef}
          id={id}
          role="menu"
          aria-label={label}
          className="menu"
          data-align={align}
          data-above={above || undefined}
          onKeyDown={onMenuKeyDown}
        >
          {items.map((item) => (
            <button
              key={item.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className="menu-item"
              data-danger={item.danger || undefined}
              onClick={() => {
                setOpen(false);
                item.onSelect();
              }}
            >
              {item.icon}
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
