@route-protection
Feature: Route protection
  The middleware protects all routes except authentication pages and static assets. If the route isn't
  public and the user isn't authenticated, Clerk redirects to the sign-in page. If authenticated, the request
  proceeds normally.

  Routes are named by what they are ("the data page", "the PUT API route"); the target profile says where they
  are in the app under test.

  @RP-001
  Scenario: A signed-out visitor opening a protected page is sent to sign in
    Given I am signed out
    When I open the data page
    Then I am sent to sign in, with a way back to the data page

  @RP-002
  Scenario Outline: A signed-out visitor fetching a protected API route is sent to sign in
    Given I am signed out
    When I fetch <route>
    Then I am sent to sign in, with a way back to <route>
    And the API received no request

    Examples:
      | route                |
      | the GET API route    |
      | the POST API route   |
      | the PUT API route    |
      | the DELETE API route |
      | the sign-out route   |

  @RP-003
  Scenario Outline: A signed-out API request gets no data
    Given I am signed out
    When I fetch <route>
    Then I am refused as the profile says for a signed-out non-page request
    And the response carries no API data
    And the API received no request

    Examples:
      | route                |
      | the GET API route    |
      | the POST API route   |
      | the PUT API route    |
      | the DELETE API route |

  @RP-004
  Scenario: A signed-in user opens a protected page
    Given I am signed in
    When I open the data page
    Then the page shows the API's data

  @RP-005
  Scenario Outline: A signed-in user calls each protected API route
    Given I am signed in
    When I fetch <route>
    Then the response status is 200
    And the response carries the API's data
    And the API received 1 call behind <route>, each with my bearer token

    Examples:
      | route                |
      | the GET API route    |
      | the POST API route   |
      | the PUT API route    |
      | the DELETE API route |

  @RP-006
  Scenario: Authentication pages are public
    Given I am signed out
    Then every public route in the profile is served without sending me to sign in

  @RP-007
  Scenario: Static assets are never redirected
    Given I am signed out
    Then every static asset in the profile is served without a redirect

  @RP-008
  Scenario: Every protected page in the target profile sends a signed-out visitor to sign in
    Given I am signed out
    Then every protected page in the profile sends me to sign in

  @RP-009
  Scenario: A route that merely contains a public route's word is still protected
    Given I am signed out
    When I open the public-lookalike probe
    Then I am sent to sign in, with a way back to the public-lookalike probe

  @RP-010
  Scenario: A path that merely starts like the static assets is still protected
    Given I am signed out
    When I open the static-lookalike probe
    Then I am sent to sign in, with a way back to the static-lookalike probe

  @RP-011
  Scenario: The framework's data routes are not excluded from protection
    Given I am signed out
    When I open the data-route probe
    Then I am sent to sign in, with a way back to the data-route probe

  @RP-012
  Scenario: Every protected API route in the target profile refuses a signed-out request as the profile says
    Given I am signed out
    Then every protected API route in the profile refuses me as the profile says, with no data
