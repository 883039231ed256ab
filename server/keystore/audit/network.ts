/** Where GPT-Load listens and who can reach it: published Compose ports, or HOST on a binary deployment. */
import { isLoopback, setting, type AuditInputs } from './inputs';
import type { GptLoadAddress } from './proxies';

export interface Exposure {
  /** Reachable on every interface of the host. */
  allInterfaces: boolean;
  /** Where that is decided. */
  file?: string;
  line?: number;
  /** How, for the message: "3001:3001", "HOST=0.0.0.0". */
  how: string;
}

export function gptLoadPort(inputs: AuditInputs): string {
  return setting(inputs, 'PORT')?.value || '3001';
}

/** How a proxy may name GPT-Load: its port, the host ports Compose publishes it on, its service name. */
export function gptLoadAddress(inputs: AuditInputs): GptLoadAddress {
  const port = gptLoadPort(inputs);
  const service = inputs.compose?.gptLoad;
  const published = (service?.ports ?? []).filter((p) => p.containerPort === port && p.hostPort !== '').map((p) => p.hostPort);
  return { ports: [...new Set([port, ...published])], serviceNames: service ? [service.name, 'gpt-load'] : ['gpt-load'] };
}

function unspecified(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0' || ip === '::' || ip === '[::]';
}

export function exposure(inputs: AuditInputs): Exposure {
  const service = inputs.compose?.gptLoad;
  if (service && !service.networkModeHost) {
    const port = gptLoadPort(inputs);
    const open = service.ports.find((p) => p.containerPort === port && unspecified(p.hostIp));
    if (open) return { allInterfaces: true, file: inputs.compose!.path, line: open.line, how: `ports "${open.hostPort ? `${open.hostPort}:` : ''}${open.containerPort}"` };
    const first = service.ports.find((p) => p.containerPort === port);
    return { allInterfaces: false, file: inputs.compose!.path, line: first?.line ?? service.line, how: first ? `ports "${first.hostIp}:${first.hostPort}:${first.containerPort}"` : 'no published port' };
  }
  const host = setting(inputs, 'HOST');
  const value = host?.value || '0.0.0.0';
  return { allInterfaces: !isLoopback(value), ...(host?.file ? { file: host.file, line: host.line } : {}), how: `HOST=${value}` };
}
