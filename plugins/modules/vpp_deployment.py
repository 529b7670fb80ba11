#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: vpp_deployment
short_description: Deploy an application's Apple Apps and Books licenses to a collection of users or devices
version_added: 0.1.0
description:
  - Gives the licenses of one application to every member of a user collection or a device collection
    (V(install)), or takes them back (V(uninstall)), and records each member's outcome in the store.
  - "It assigns Apple licenses only: installing the app on the devices is the MDM's work, and taking a license
    back does not remove an installed app (remove it through the MDM first when it must disappear)."
  - "The license type follows Configuration Manager's table: a user collection always claims user licenses; a
    device collection claims device licenses (serial numbers) when the app supports them, else user licenses of
    each device's user. Books are user-only: a book to a device collection is refused before any call."
  - Plans first. Members that lack a license are compared with the app's current available count, read fresh
    from Apple. When there are not enough licenses the task fails before any write and returns the plan, unless
    O(allow_partial=true). Check mode returns the plan and writes nothing.
  - Users Apple does not know yet are registered first; the result lists invitation links for users who have not
    accepted their invitation. A managed Apple ID of the organisation's domain is associated at once.
  - Licenses are associated (or disassociated) in batches within Apple's limits. Each Apple event id is stored
    before the module waits on it, so a run that is interrupted, or that stops waiting, resumes by polling the
    stored events on the next run instead of submitting again.
  - Re-running an unchanged deployment makes no write call. New members get licenses; members removed from an
    install deployment keep theirs and are reported untargeted, unless O(reclaim_removed=true).
  - The task fails when a member ends failed (a device without a user for an app without device licenses, a
    license Apple refused, a book that cannot be taken back...), naming how many and the first ones with their
    reasons; the other members are done and the result keeps RV(failed_members). With O(allow_partial=true) it
    succeeds with a warning listing them. Check mode fails (or warns) the same way for the failures it predicts.
  - "The result counts members (RV(counts)) and names at most the first 100 of each list (RV(left_out) says how
    many more), whatever the size of the collection; the diff names the first 20 of each change.
    M(mdm.vpp.vpp_deployment_info) lists every member, page by page."
  - A collection without members is accepted with a warning (probably an empty export or a wrong file); an
    install deployment with O(reclaim_removed=true) and no members takes back the license of every former member.
  - Serial numbers are compared and stored upper-case, so V(c02acme00050) and V(C02ACME00050) are one device
    (given both, the task refuses the duplicate). Client user ids are compared exactly, as Apple does.
  - The stored counts of the app (assigned, available) move with each license this module gives or takes back, so
    M(mdm.vpp.vpp_app_info) is right right after a deployment; the next M(mdm.vpp.vpp_sync) reads Apple's counts.
  - An existing deployment's action never changes; reclaim licenses with a separate uninstall deployment.
    O(state=absent) forgets a deployment without reclaiming anything.
author:
  - mdm.vpp contributors (@mdm-vpp)
options:
  name:
    description:
      - Name of the deployment, its identity in the store.
    type: str
    required: true
  application:
    description:
      - Name of the application to deploy (created with M(mdm.vpp.vpp_app)).
      - Mutually exclusive with O(token) and O(adam_id).
    type: str
  token:
    description:
      - Name of the token that licenses the app, with O(adam_id), instead of O(application).
      - When the app has no application yet, one is created with the default name
        C(<app name> (<token name>)).
    type: str
  adam_id:
    description:
      - Apple's product id of the app or book, with O(token).
    type: str
  pricing_param:
    description:
      - Apple's pricing parameter of the app, with O(token) and O(adam_id). The token's only one when not set,
        else V(STDQ).
    type: str
    choices: [STDQ, PLUS]
  collection:
    description:
      - The users or devices that get (or give back) the licenses. Required with O(state=present).
    type: dict
    suboptions:
      name:
        description:
          - Name of the collection, as the administrator knows it (for example the MDM group).
        type: str
        required: true
      type:
        description:
          - V(user) for people, V(device) for devices.
          - The type of an existing deployment never changes.
        type: str
        required: true
        choices: [user, device]
      members:
        description:
          - "Device members: serial numbers, or dictionaries C({serial, user, enrollment_id, platform}) where C(user)
            is the client user id of the device's user (needed when the app cannot be licensed to devices)."
          - "User members: client user ids, or dictionaries C({client_user_id, email, managed_apple_id,
            enrollment_id, platform}); the email and managed Apple ID are used to register users Apple does not know
            yet."
          - "C(enrollment_id) is where the MDM sends the member's commands (O(install_via)): the device's UDID, or
            C(UDID:UserID) for a macOS user channel, as NanoMDM names enrollments. C(platform) (C(ios), C(macos),
            C(tvos), C(visionos), C(watchos); C(iPadOS) and C(Mac OS X) are understood) marks Macs, which get
            C(InstallAsManaged); without it a member is a Mac when its enrollment is a user channel or the app runs
            on Macs only."
          - Invalid or duplicate serial numbers, ids or emails fail the task before any call.
        type: list
        elements: raw
      members_file:
        description:
          - A file on the controller with one member per line, or CSV under a header line
            (C(serial,user,enrollment_id,platform) for devices, C(client_user_id,email,managed_apple_id,enrollment_id,
            platform) for users).
          - "The header may use the column names of MDM and Apple Business exports, compared without case, blanks,
            C(_) or C(-): for C(serial) C(Serial Number), C(SerialNumber), C(Serial No), C(Device Serial Number),
            C(Hardware Serial); for a device's C(user) C(Username), C(User Name), C(User ID), C(Client User ID),
            C(Assigned User), C(Primary User); for C(client_user_id) C(User ID), C(User), C(Username), C(ID); for
            C(email) C(Email Address), C(E-mail), C(Mail), C(Primary Email); for C(managed_apple_id) C(Managed Apple
            ID), C(Managed Apple Account), C(Apple ID); for C(enrollment_id) C(UDID), C(Device UDID), C(Enrollment ID);
            for C(platform) C(OS), C(Operating System). The header must name the member id column; other columns
            (C(Model), C(Name)...) are ignored."
          - Lines starting with C(#) and blank lines are ignored. Adds to O(collection.members).
          - Must be a regular file (a device such as C(/dev/zero), a FIFO or a directory is refused). It is read one
            line at a time; more than 2,000,000 members (a header line aside), more than 256 MB, or a line longer
            than 4096 bytes fails the task at once, naming the file and the cap.
        type: path
  action:
    description:
      - V(install) gives licenses, V(uninstall) takes the application's licenses of the members back.
      - The action of an existing deployment never changes.
    type: str
    choices: [install, uninstall]
    default: install
  purpose:
    description:
      - Only V(required) is supported; V(available) is refused.
    type: str
    choices: [required, available]
    default: required
  state:
    description:
      - V(present) deploys; V(absent) forgets the deployment and its members' states (no license is reclaimed).
    type: str
    choices: [present, absent]
    default: present
  allow_partial:
    description:
      - When there are fewer licenses available than members need, license as many as possible and report the
        rest failed with error 9709, instead of failing before any write.
      - Accept members that end failed for any reason (the task succeeds with a warning naming them) instead of
        failing the task.
    type: bool
    default: false
  reclaim_removed:
    description:
      - Take back the licenses of members removed from an install deployment (they become V(reclaimed)).
      - A license another install deployment of the same application still needs is kept (V(untargeted)).
      - Without it they keep their license and are reported V(untargeted).
    type: bool
    default: false
  wait:
    description:
      - Wait for Apple to finish the license events and record each member's outcome.
      - With V(false) the task returns once the events are submitted (members V(pending)); the next run records
        their outcome. User registration is always waited for, a license needs the user.
      - When the token has Apple's notifications (C(ASSET_MANAGEMENT)) received by the event source
        C(mdm.vpp.vpp_events) on the same store (at least one recorded), the outcomes come from the notifications
        recorded in the store (with V(false) too, without a run), and Apple's event status is read only for an
        event no notification finished within 5 minutes of its submission, as Apple advises.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for Apple's events. When they are still pending then, the task fails; the events stay
        stored and the next run resumes them.
    type: int
    default: 600
  install_via:
    description:
      - How the app reaches the members' devices once Apple confirmed their license.
      - V(license) assigns the license only (the MDM installs on its own, or the user does from the App Store);
        the default without an MDM server (O(mdm_type) not set).
      - V(command) sends C(InstallApplication) through the MDM server (C(iTunesStoreID), C(PurchaseMethod) 1,
        O(management_flags), C(InstallAsManaged) for Macs) to the licensed members' enrollments, one request per
        batch of enrollment ids (NanoMDM and NanoHUB take up to 100 ids a request; MicroMDM one). The default with
        an MDM server. An uninstall sends C(RemoveApplication) with the app's bundle id first.
      - V(declaration) puts the members' enrollments in a KMFDDM declaration set holding a
        C(com.apple.configuration.app.managed) declaration (needs O(mdm_type=nanohub); iOS 17.2 and later); an
        uninstall takes them out of the set, which removes the app.
      - A rerun sends nothing to a member already sent the command, unless its device answered with an error.
        Members without an enrollment id fail (O(allow_partial) accepts them), except with MicroMDM, which looks
        a device collection's serial numbers up (C(POST /v1/devices), one request per 500 serial numbers).
      - A member whose enrollment the MDM server does not know (NanoMDM and NanoHUB say so) fails, and is not sent
        the install again while its C(enrollment_id) stays the same, so a rerun stays unchanged and still lists it
        in RV(failed_members). The next run sends it once its enrollment id changed, or once its device enrolled
        (the MDM's C(mdm.TokenUpdate) reaching C(mdm.vpp.vpp_events)).
      - The devices' answers reach the store through the event source C(mdm.vpp.vpp_events) (see
        C(docs/mdm.md)). A member goes from V(sent) to V(installed), V(not_now) or V(failed) with the device's
        ErrorChain.
    type: str
    choices: [license, command, declaration]
  management_flags:
    description:
      - C(ManagementFlags) of the install command. V(1) removes the app when the MDM profile is removed, V(4)
        prevents backup of its data, V(5) does both, V(0) neither.
    type: int
    choices: [0, 1, 4, 5]
    default: 1
  reclaim_when:
    description:
      - When an uninstall (or O(reclaim_removed)) takes a license back, with an MDM server.
      - V(removed) once the device confirmed the app removed (its answer arrives through C(mdm.vpp.vpp_events);
        the next run, or a rulebook running this task, then reclaims). Until then the member stays pending and is
        listed in RV(mdm.awaiting_removal).
      - V(sent) as soon as the MDM server queued the removal, in the same run.
    type: str
    choices: [removed, sent]
    default: removed
extends_documentation_fragment:
  - mdm.vpp.vpp
  - mdm.vpp.mdm
  - mdm.vpp.vpp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - The license picture comes from the store (M(mdm.vpp.vpp_sync)) plus what this module records; only the
    app's available count is read fresh at each run.
seealso:
  - module: mdm.vpp.vpp_deployment_info
  - module: mdm.vpp.vpp_app
  - module: mdm.vpp.vpp_sync
"""

EXAMPLES = r"""
- name: License Pages to the sales iPads (device licenses)
  mdm.vpp.vpp_deployment:
    name: pages-sales-ipads
    application: Pages (hq)
    collection:
      name: Sales iPads
      type: device
      members: [C02XK0AAJG5H, DMPZ12ABCD34]

- name: An app without device licenses goes to each device's user
  mdm.vpp.vpp_deployment:
    name: keynote-sales-ipads
    token: hq
    adam_id: "1000000002"
    collection:
      name: Sales iPads
      type: device
      members:
        - {serial: C02XK0AAJG5H, user: u-1001}
        - {serial: DMPZ12ABCD34, user: u-1002}

- name: A book to the teachers, registering new ones (CSV file with a header)
  mdm.vpp.vpp_deployment:
    name: handbook-teachers
    application: Teacher Handbook (school)
    collection:
      name: Teachers
      type: user
      members_file: /srv/collections/teachers.csv
  register: handbook

- name: Send the invitations
  ansible.builtin.debug:
    msg: "{{ item.email }}: {{ item.url }}"
  loop: "{{ handbook.invitations }}"

- name: A Jamf export of the iPads (columns Serial Number, Username, Model...)
  mdm.vpp.vpp_deployment:
    name: keynote-ipads
    application: Keynote (hq)
    collection:
      name: Jamf iPads
      type: device
      members_file: /srv/exports/jamf-ipads.csv

- name: As many licenses as there are, the rest reported failed (a warning names them)
  mdm.vpp.vpp_deployment:
    name: pages-all-staff
    application: Pages (hq)
    allow_partial: true
    collection:
      name: All staff
      type: user
      members_file: /srv/collections/staff.txt

- name: Take Pages back from the leavers
  mdm.vpp.vpp_deployment:
    name: pages-leavers
    application: Pages (hq)
    action: uninstall
    collection:
      name: Leavers
      type: user
      members: [u-0042, u-0077]

- name: Forget a deployment (licenses stay assigned)
  mdm.vpp.vpp_deployment:
    name: pages-sales-ipads
    state: absent
"""

RETURN = r"""
deployment:
  description: The deployment after the task (before it, for O(state=absent)); V(null) when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the deployment.
      type: str
      sample: pages-sales-ipads
    application:
      description: Name of the application deployed.
      type: str
      sample: Pages (hq)
    token:
      description: Token that licenses the application.
      type: str
      sample: hq
    adam_id:
      description: Apple's product id.
      type: str
      sample: "1000000001"
    pricing_param:
      description: Apple's pricing parameter.
      type: str
      sample: STDQ
    collection:
      description: Name and type of the collection.
      type: dict
      sample: {"name": "Sales iPads", "type": "device"}
    action:
      description: V(install) or V(uninstall).
      type: str
      sample: install
    purpose:
      description: Always V(required).
      type: str
      sample: required
    license_type:
      description: V(device) (serial numbers) or V(user) licenses.
      type: str
      sample: device
    members:
      description:
        - Number of members of the collection. Rows kept of former members (V(untargeted), and V(reclaimed) in an
          install deployment) are counted in RV(deployment.states) only.
      type: int
      sample: 2
    states:
      description: Members by state (V(pending), V(licensed), V(failed), V(untargeted), V(reclaimed)).
      type: dict
      sample: {"pending": 0, "licensed": 2, "failed": 0, "untargeted": 0, "reclaimed": 0}
plan:
  description:
    - What the run does (or, in check mode, would do) per member, and whether there are enough licenses.
    - Bounded whatever the number of members, each per-member list cut to its first 100 entries, with C(counts)
      of every list and C(truncated). When the task fails for lack of licenses, the lists show their first 10.
  returned: with O(state=present)
  type: dict
  contains:
    action:
      description: V(install) or V(uninstall).
      type: str
      sample: install
    license_type:
      description: License type claimed.
      type: str
      sample: device
    members:
      description: Number of members asked for.
      type: int
      sample: 2
    needed:
      description: Distinct licenses to claim (install) or take back (uninstall).
      type: int
      sample: 2
    available:
      description: Licenses available at Apple now; V(null) for an unlimited (free) app.
      type: int
      sample: 48
    short:
      description: Licenses missing.
      type: int
      sample: 0
    already:
      description: Members whose license is already where it should be.
      type: list
      elements: dict
      sample: [{"member_id": "C02XK0AAJG5H", "license_type": "device", "target_id": "C02XK0AAJG5H"}]
    awaiting:
      description: Members waiting on an event submitted by an earlier run.
      type: list
      elements: dict
      sample: []
    to_license:
      description: Members that get a license, with the serial number or client user id it goes to.
      type: list
      elements: dict
      sample: [{"member_id": "DMPZ12ABCD34", "license_type": "device", "target_id": "DMPZ12ABCD34"}]
    to_reclaim:
      description: Members whose license is taken back.
      type: list
      elements: dict
      sample: []
    to_register:
      description: Users registered at Apple first.
      type: list
      elements: dict
      sample: [{"client_user_id": "u-1001", "email": "ana@example.org"}]
    untargeted:
      description: Removed members that keep their license.
      type: list
      elements: dict
      sample: []
    forgotten:
      description: Removed members holding no license, dropped from the deployment.
      type: list
      elements: dict
      sample: []
    failed:
      description: Members refused before any call (no device user, not enough licenses, not revocable).
      type: list
      elements: dict
      sample: [{"member_id": "SN9", "error_number": 9709, "error_message": "not enough licenses available"}]
    batches:
      description: Calls each step takes at Apple's current limits.
      type: dict
      sample: {"associate": 1, "disassociate": 0, "create_users": 0}
    counts:
      description: Entries of each per-member list (the lists themselves show at most 100, 10 in a refusal).
      type: dict
      sample: {"already": 0, "to_license": 20000, "failed": 0}
    truncated:
      description: Whether a per-member list was cut.
      type: bool
      sample: true
summary:
  description: The plan's counts only (per-member lists counted).
  returned: in check mode
  type: dict
  sample: {"needed": 2, "available": 48, "short": 0, "to_license": 2}
counts:
  description:
    - How many members each list of the result has in full (C(licensed), C(reclaimed), C(failed_members),
      C(pending), C(untargeted), C(registered_users), C(invitations)); in check mode C(failed_members) only.
    - Each of those lists names at most the first 100 (the result's size does not grow with the collection);
      M(mdm.vpp.vpp_deployment_info) pages through every member with its state.
  returned: with O(state=present)
  type: dict
  sample: {"licensed": 100000, "reclaimed": 0, "failed_members": 2, "pending": 0, "untargeted": 0,
           "registered_users": 0, "invitations": 0}
left_out:
  description: How many entries each list of RV(counts) leaves out (its count minus the 100 it names at most).
  returned: with O(state=present)
  type: dict
  sample: {"licensed": 99900, "reclaimed": 0, "failed_members": 0, "pending": 0, "untargeted": 0,
           "registered_users": 0, "invitations": 0}
licensed:
  description: Members that got their license in this run (the first 100; RV(counts) has their number).
  returned: with O(state=present), except in check mode
  type: list
  elements: str
  sample: [DMPZ12ABCD34]
reclaimed:
  description: Members whose license was taken back in this run (the first 100).
  returned: with O(state=present), except in check mode
  type: list
  elements: str
  sample: []
untargeted:
  description: Removed members that keep their license (see O(reclaim_removed)); the first 100.
  returned: with O(state=present), except in check mode
  type: list
  elements: str
  sample: []
failed_members:
  description:
    - Members that failed in this run, with Apple's error number and message (or the module's reason, such as a
      device without a user); in check mode, the failures the plan predicts. The first 100; RV(counts) has their
      number.
    - Also returned when the task fails because members ended failed, with the rest of the result and
      C(member_failures) (their number).
  returned: with O(state=present)
  type: list
  elements: dict
  sample: [{"member_id": "u-9", "error_number": 9709, "error_message": "not enough licenses available"}]
pending:
  description: Members whose license event is still pending at Apple (O(wait=false)); the first 100 by member id.
  returned: with O(state=present), except in check mode
  type: list
  elements: str
  sample: []
pending_event_ids:
  description: Apple event ids still pending; the next run polls them.
  returned: with O(state=present)
  type: list
  elements: str
  sample: []
registered_users:
  description: Users registered at Apple in this run (the first 100).
  returned: with O(state=present), except in check mode
  type: list
  elements: str
  sample: [u-1001]
invitations:
  description: Users of the deployment who have not accepted Apple's invitation yet, with their link (the first 100).
  returned: with O(state=present), except in check mode
  type: list
  elements: dict
  sample: [{"client_user_id": "u-1001", "email": "ana@example.org", "url": "https://buy.itunes.apple.com/..."}]
application_created:
  description: Whether the task created the application (given by O(token) and O(adam_id)).
  returned: with O(state=present), except in check mode
  type: bool
  sample: false
requests:
  description: Requests sent to Apple by this task, in total and per endpoint.
  returned: with O(state=present)
  type: dict
  sample: {"total": 4, "by_endpoint": {"GET /assets": 1, "POST /assets/associate": 1, "GET /status": 1}}
mdm:
  description:
    - What this run asked of the MDM server (with an MDM and O(install_via) other than V(license)).
    - In check mode the prediction is C(plan.mdm) instead, with the members (their number and the first 20) and
      requests each command would take, and the members it would not reach (C(without_enrollment),
      C(unknown_enrollment)).
  returned: with O(state=present) and an MDM server, except in check mode
  type: dict
  contains:
    install_via:
      description: V(command) or V(declaration).
      type: str
    service:
      description: The MDM server's kind (C(NanoMDM), C(NanoHUB), C(MicroMDM)).
      type: str
    declaration:
      description: The app's declaration identifier (O(install_via=declaration)), else V(null).
      type: str
    sent:
      description: Members sent the install in this run (the first 100, sorted; C(counts.sent) counts them all).
      type: list
      elements: str
    removal_sent:
      description: Members sent the removal in this run (the first 100, sorted; C(counts.removal_sent) counts them).
      type: list
      elements: str
    awaiting_removal:
      description:
        - Members whose license comes back once their device confirms the removal (the first 100, sorted;
          C(counts.awaiting_removal) counts them all).
      type: list
      elements: str
    counts:
      description: How many members each of C(sent), C(removal_sent) and C(awaiting_removal) has in all.
      type: dict
      sample: {"sent": 2, "removal_sent": 0, "awaiting_removal": 0}
    left_out:
      description: How many members each of those lists leaves out (beyond its first 100).
      type: dict
      sample: {"sent": 0, "removal_sent": 0, "awaiting_removal": 0}
    push_failed:
      description: Members whose command was queued but whose device could not be woken (APNs), with the reason.
      type: dict
    requests:
      description: Requests sent to the MDM server, in total and per endpoint.
      type: dict
      sample: {"total": 1, "by_endpoint": {"PUT /v1/enqueue": 1}}
    install_states:
      description: The deployment's members by install state (C(none) for nothing sent).
      type: dict
      sample: {"sent": 2}
  sample:
    install_via: command
    service: NanoMDM
    declaration: null
    sent: [C02XK0AAJG5H, DMPZ12ABCD34]
    removal_sent: []
    awaiting_removal: []
    counts: {"sent": 2, "removal_sent": 0, "awaiting_removal": 0}
    left_out: {"sent": 0, "removal_sent": 0, "awaiting_removal": 0}
    push_failed: {}
    requests: {"total": 1, "by_endpoint": {"PUT /v1/enqueue": 1}}
    install_states: {"sent": 2}
diff:
  description:
    - The deployment before and after (members counted by state), with C(app), the app's name and adamId.
    - C(after.member_changes) names the members that gain a license, lose one, join or leave the collection (the
      first 20 of each, with C(count)); C(members) has all four, empty ones included.
    - With an MDM server, C(after.mdm) shows each command that goes (in check mode, would go), C(InstallApplication)
      and C(RemoveApplication) (for declarations, C(declaration set (add)) and C(declaration set (remove))), with
      C(members), C(first) (the first 20 member ids) and C(requests).
  returned: in diff mode
  type: dict
  sample:
    before: {"name": "pages-sales-ipads", "app": "Pages (1000000001)", "members": 2}
    after:
      name: pages-sales-ipads
      app: Pages (1000000001)
      members: 2
      member_changes:
        gaining_license: {"count": 1, "first": ["DMPZ12ABCD34"]}
        added: {"count": 1, "first": ["DMPZ12ABCD34"]}
        removed: {"count": 1, "first": ["C02XK0AAJG5H"]}
    members:
      gaining_license: {"count": 1, "first": ["DMPZ12ABCD34"]}
      losing_license: {"count": 0, "first": []}
      added: {"count": 1, "first": ["DMPZ12ABCD34"]}
      removed: {"count": 1, "first": ["C02XK0AAJG5H"]}
"""

from ansible_collections.mdm.vpp.plugins.module_utils.deployments import DEFAULT_WAIT_TIMEOUT, ensure_deployment
from ansible_collections.mdm.vpp.plugins.module_utils.module import VPPModule
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    ACTIONS,
    COLLECTION_TYPES,
    INSTALL,
    INSTALL_VIA,
    PRICING_PARAMS,
    PURPOSES,
    RECLAIM_WHEN,
    RECLAIM_WHEN_REMOVED,
)

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "application": {"type": "str"},
    "token": {"type": "str", "no_log": False},  # a token's name, not its secret
    "adam_id": {"type": "str"},
    "pricing_param": {"type": "str", "choices": list(PRICING_PARAMS)},
    "collection": {
        "type": "dict",
        "options": {
            "name": {"type": "str", "required": True},
            "type": {"type": "str", "required": True, "choices": list(COLLECTION_TYPES)},
            "members": {"type": "list", "elements": "raw"},
            "members_file": {"type": "path"},
        },
    },
    "action": {"type": "str", "choices": list(ACTIONS), "default": INSTALL},
    "purpose": {"type": "str", "choices": list(PURPOSES), "default": "required"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "allow_partial": {"type": "bool", "default": False},
    "reclaim_removed": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": DEFAULT_WAIT_TIMEOUT},
    "install_via": {"type": "str", "choices": list(INSTALL_VIA)},
    "management_flags": {"type": "int", "default": 1, "choices": [0, 1, 4, 5]},
    "reclaim_when": {"type": "str", "choices": list(RECLAIM_WHEN), "default": RECLAIM_WHEN_REMOVED},
}
MUTUALLY_EXCLUSIVE = [("application", "token"), ("application", "adam_id")]
REQUIRED_TOGETHER = [("token", "adam_id")]
REQUIRED_IF = [("state", "present", ("collection",))]


def main():
    module = VPPModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_together=REQUIRED_TOGETHER,
        required_if=REQUIRED_IF,
        supports_check_mode=True,
        names=("name", "collection.name"),
    )
    module.run(ensure_deployment)


if __name__ == "__main__":
    main()
