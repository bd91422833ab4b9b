"""The v1-from-v2 bridge (coop_platform.api_versions): which v2 responses answer v1 clients."""

from __future__ import annotations

import pytest

from coop.membership.v1 import membership_pb2 as v1
from coop.membership.v2 import membership_pb2 as v2
from coop_platform.api_versions import _response_writer


def test_a_v2_response_wrapping_the_v1_resource_answers_with_the_wrapped_field():
    write = _response_writer(v1.Member.DESCRIPTOR, v2.GetMemberResponse.DESCRIPTOR, "GetMember")
    member = v1.Member(member_id="m-1", family_name="Lovelace")
    assert v1.Member.FromString(write(v2.GetMemberResponse(member=member))) == member


def test_a_v2_list_page_with_v1s_field_numbers_and_types_is_passed_as_is():
    write = _response_writer(v1.ListMembersResponse.DESCRIPTOR, v2.ListMembersResponse.DESCRIPTOR, "ListMembers")
    page = v2.ListMembersResponse(members=[v1.Member(member_id="m-1")], next_page_token="t")
    assert v1.ListMembersResponse.FromString(write(page)) == v1.ListMembersResponse(
        members=[v1.Member(member_id="m-1")], next_page_token="t")


def test_a_v2_response_neither_wrapping_nor_shaped_like_v1s_is_refused_at_start():
    with pytest.raises(TypeError, match="must hold exactly one"):
        _response_writer(v1.MemberCounts.DESCRIPTOR, v2.ListMembersResponse.DESCRIPTOR, "CountMembers")
