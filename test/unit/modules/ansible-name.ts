// Which Ansible module a name in relay-play's registry stands for (its FQCN), as index.ts registers them.
const collection: Record<string, string> = {
  authorized_key: 'ansible.posix',
  sysctl: 'ansible.posix',
  openssh_keypair: 'community.crypto',
};

export function ansibleName(name: string): string {
  return name.includes('.') ? name : `${collection[name] ?? 'ansible.builtin'}.${name}`;
}
