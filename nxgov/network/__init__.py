"""The e-government extranet: address plan, intent, rendering, and the devices themselves."""
