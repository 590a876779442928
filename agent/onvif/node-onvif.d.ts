/**
 * Types for the parts of node-onvif 0.1.7 that agent/onvif/adapter.ts uses; the package
 * ships none. Only its service modules are used, not OnvifDevice: init() makes about 150
 * requests on an NVR and throws on encoder configurations without Resolution
 * (docs/ONVIF.md).
 */

declare module 'node-onvif/lib/modules/soap.js' {
  /** What every command resolves with; `data` is the SOAP body as xml2js gives it. */
  export interface NodeOnvifResult {
    soap: string;
    data: Record<string, unknown>;
  }

  export interface NodeOnvifServiceParams {
    xaddr: string;
    user?: string;
    pass?: string;
    time_diff?: number;
  }

  /** The module-wide transport; HTTP_TIMEOUT is the socket idle timeout of each request. */
  const soap: { HTTP_TIMEOUT: number };
  export default soap;
}

declare module 'node-onvif/lib/modules/service-device.js' {
  import type { NodeOnvifResult, NodeOnvifServiceParams } from 'node-onvif/lib/modules/soap.js';

  class OnvifServiceDevice {
    constructor(params: NodeOnvifServiceParams);
    /** Milliseconds added to the gateway clock for the WS-UsernameToken Created value. */
    time_diff: number;
    /** Sets credentials without the constructor's ASCII-only, no-"<>" password check. */
    setAuth(user: string, pass: string): void;
    getCapabilities(): Promise<NodeOnvifResult>;
    getDeviceInformation(): Promise<NodeOnvifResult>;
  }
  export default OnvifServiceDevice;
}

declare module 'node-onvif/lib/modules/service-media.js' {
  import type { NodeOnvifResult, NodeOnvifServiceParams } from 'node-onvif/lib/modules/soap.js';

  class OnvifServiceMedia {
    constructor(params: NodeOnvifServiceParams);
    time_diff: number;
    setAuth(user: string, pass: string): void;
    getProfiles(): Promise<NodeOnvifResult>;
  }
  export default OnvifServiceMedia;
}
