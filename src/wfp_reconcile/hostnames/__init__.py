"""Customers' own domains: Cloudflare for SaaS custom hostnames (see docs/hostnames.md).

- ``names``: what a valid hostname is, wildcard coverage (pure).
- ``metadata``: the ``custom_metadata`` that marks a custom hostname as ours (the inventory).
- ``records``: the DNS records a customer must create for a hostname.
"""

from __future__ import annotations
