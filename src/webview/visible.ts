// Draw what is seen: a chart below the fold (or in a hidden table view) is not redrawn for each
// live sample; it is marked stale and drawn once when it scrolls into view. A live update then
// costs the charts on screen, not all of them.
let observer: IntersectionObserver | undefined;
const watched = new WeakMap<Element, Watch>();

interface Watch {
  visible: boolean;
  stale: boolean;
  draw: () => void;
}

function io(): IntersectionObserver {
  observer ??= new IntersectionObserver((entries) => {
    for (const e of entries) {
      const w = watched.get(e.target);
      if (!w) continue;
      w.visible = e.isIntersecting;
      if (w.visible && w.stale) {
        w.stale = false;
        w.draw();
      }
    }
  });
  return observer;
}

/**
 * Returns `redraw(force)`: draws now when the element is on screen (or `force`), else once it
 * comes into view. Until the observer has first reported (it does so right after the element is
 * observed), an element counts as `initiallyVisible`.
 */
export function drawWhenVisible(
  el: Element,
  draw: () => void,
  initiallyVisible = true,
): (force?: boolean) => void {
  const w: Watch = { visible: initiallyVisible, stale: false, draw };
  watched.set(el, w);
  io().observe(el);
  return (force = false) => {
    if (force || w.visible) {
      w.stale = false;
      draw();
    } else w.stale = true;
  };
}

/** One chart's drawing of what live samples added, as a job for the frame scheduler (frame.ts). */
export interface LiveRedraw {
  key: string;
  /** The chart's canvas: on screen, its job goes first. */
  element: Element;
  draw: () => void;
}

/** Whether a watched element is on screen (as last reported; an element not watched: no). */
export function isOnScreen(el: Element): boolean {
  return watched.get(el)?.visible ?? false;
}

/** Stops watching (the chart is gone). */
export function unwatch(el: Element): void {
  watched.delete(el);
  observer?.unobserve(el);
}
