// Starts an HTTP server listening, turning the usual failures into one-line errors that name the
// setting to change, and returns the URL to print.
import type http from 'node:http';
import type net from 'node:net';

export interface ListenOptions {
  port: number;
  host: string;
  /** The setting that chose the port (PORT, METRICS_PORT), named in errors. */
  portSetting: string;
}

export async function listen(server: http.Server, options: ListenOptions): Promise<{ url: string; port: number }> {
  const { port: wanted, host, portSetting } = options;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(
          new Error(
            `${portSetting} ${wanted} is already in use on ${host}; set ${portSetting} to a free port (0 picks one)`,
          ),
        );
      else if (error.code === 'EACCES')
        reject(
          new Error(
            `${portSetting} ${wanted} on ${host} needs privileges this process does not have; choose a port above 1023`,
          ),
        );
      else if (error.code === 'EADDRNOTAVAIL') reject(new Error(`HOST ${host} is not an address of this machine`));
      else reject(error);
    });
    server.listen(wanted, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return { url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`, port };
}
