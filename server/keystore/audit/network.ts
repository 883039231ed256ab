/** Where GPT-Load listens and who can reach it: published Compose ports, or HOST on a binary deployment or the host's network. */
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
  /** Decided by HOST (a binary deployment, or `network_mode: host`), not by published ports: the fix is HOST=127.0.0.1. */
  byHost: boolean;
}

function gptLoadPort(inputs: AuditInputs): string {
  return setting(inputs, 'PORT')?.value || '3001';
}

/** How a proxy may name GPT-Load: its port, the host ports Compose publishes it on, its service name. */
export function gptLoadAddress(inputs: AuditInputs): GptLoadAddress {
  const port = gptLoadPort(inputs);
  const compose = inputs.compose?.deployment;
  const published = (compose?.ports ?? []).filter((p) => p.target === port && p.published !== null).map((p) => p.published!);
  return { ports: [...new Set([port, ...published])], serviceNames: compose?.service ? [compose.service.name, 'gpt-load'] : ['gpt-load'] };
}

function unspecified(ip: string): boolean {
  return ip === '' || ip === '0.0.0.0' || ip === '::' || ip === '[::]';
}

export function exposure(inputs: AuditInputs): Exposure {
  const compose = inputs.compose?.deployment;
  const hostNetwork = compose?.service?.networkMode?.value === 'host' ? compose.service.networkMode : null;
  if (compose?.service && !hostNetwork) {
    const port = gptLoadPort(inputs);
    const ports = compose.ports.filter((p) => p.target === port);
    const shown = (p: (typeof ports)[number]) => `ports "${[p.hostIp && (p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp), p.published, p.target].filter(Boolean).join(':')}"`;
    const open = ports.find((p) => unspecified(p.hostIp));
    if (open) return { allInterfaces: true, file: open.file, line: open.line, how: shown(open), byHost: false };
    const first = ports[0];
    return first ? { allInterfaces: false, file: first.file, line: first.line, how: shown(first), byHost: false } : { allInterfaces: false, file: compose.service.file, line: compose.service.line, how: 'no published port', byHost: false };
  }
  // A binary deployment, or a container on the host's network (`network_mode: host`, where `ports:`
  // mean nothing): GPT-Load listens on HOST of the host's own interfaces.
  const host = setting(inputs, 'HOST');
  const value = host?.value || '0.0.0.0';
  // On the host network the Compose line is what makes HOST decide: name it.
  const where = hostNetwork ? { file: hostNetwork.file, line: hostNetwork.line } : host?.file ? { file: host.file, line: host.line } : {};
  return { allInterfaces: !isLoopback(value), ...where, how: hostNetwork ? `network_mode: host, HOST=${value}` : `HOST=${value}`, byHost: true };
}
