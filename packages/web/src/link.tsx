import type { MouseEvent, ReactNode } from 'react';
import { navigate } from './router.ts';

/** A real <a href> (keyboard, middle-click, copy link) that navigates without a reload. */
export function Link(props: { to: string; children: ReactNode; current?: boolean }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return <a href={props.to} onClick={onClick} aria-current={props.current ? 'page' : undefined}>{props.children}</a>;
}
