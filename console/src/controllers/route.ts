/** Re-renders its host when the URL hash changes; `route` is the screen it names. */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { parseRoute, type Route } from '../router.js';

export class RouteController implements ReactiveController {
  private readonly host: ReactiveControllerHost;
  route: Route;

  constructor(host: ReactiveControllerHost) {
    this.host = host;
    this.route = parseRoute(globalThis.location?.hash ?? '');
    host.addController(this);
  }

  private readonly onChange = (): void => {
    this.route = parseRoute(location.hash);
    this.host.requestUpdate();
  };

  hostConnected(): void {
    window.addEventListener('hashchange', this.onChange);
  }

  hostDisconnected(): void {
    window.removeEventListener('hashchange', this.onChange);
  }
}
