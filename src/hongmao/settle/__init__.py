"""Settlement: creator commissions from the lake's credited orders, kept as an append-only ledger.

* :mod:`hongmao.settle.programs` — a brand's commission terms as a declarative table (what an order earns);
* :mod:`hongmao.settle.facts` — what the lake says: credited orders, refunds, the trust guard's creator flags;
* :mod:`hongmao.settle.ledger` — pure reconciliation: the entries that bring each commission to what the facts
  say (pending -> locked -> payable -> paid; reversals, clawbacks, fraud holds, operator decisions);
* :mod:`hongmao.settle.store` — the catalog tables (migrations 0005, 0006, 0007) and their reads and appends;
* :mod:`hongmao.settle.statements` — per creator and period: earned, held, reversed, clawed back, payable;
* :mod:`hongmao.settle.api` — the library calls the ``hongmao settle/statements/programs/holds`` commands run;
* :mod:`hongmao.settle.guarantees` — ROI guarantees (对赌), pure: a contract, what a measured ROI makes owed, and
  the append-only entries of what it owes the brand (an adjustment when late data restates it);
* :mod:`hongmao.settle.asof` — the lake as it stood at a date: trust flags then, a guarantee's ROI at T+x;
* :mod:`hongmao.settle.guarantee_api` — the library calls of ``hongmao guarantees create/list/settle``.

Money is integer cents (fen) throughout; the lake's float amounts are converted once, in ``facts``.
"""
