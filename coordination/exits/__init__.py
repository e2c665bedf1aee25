"""Exit, the return referral (återremiss), the packet to the referrer and the follow-ups (§9, §12).

Invariants: a finalised return referral never changes (refused by the operations and by a database
trigger, and its content carries a hash); every packet, a return referral or the joint
recommendation of a referral that was not admitted, is delivered to the referrer and acknowledged
once; follow-ups fall due 6 and 12 months after the exit.
"""
