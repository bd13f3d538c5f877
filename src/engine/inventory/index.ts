export { loadInventory, parseInventory, type Host, type Inventory } from './load.js';
export { knownNames, matchHosts, selectHosts } from './select.js';
export { HOST_NAME_RE, GROUP_NAME_RE, VAR_NAME_RE, isHostName, isGroupName, isVarName } from './names.js';
