# Browser scenarios (a real Chromium, clerk-js and Clerk's UI against the Frontend API). Serial: each runs its
# own browser, and the CPU is shared with the app.
@client @client-tickets @serial
Feature: Sign-in links and impersonation
  Sign-in tokens give a URL that signs a user in without a password; an actor token's URL signs an admin in as
  the user, and the session says so (`auth().actor`, `useAuth().actor`), which the app must show. A revoked or
  expired link signs nobody in and answers with Clerk's error.

  @CL-601
  Scenario: Signing in with a sign-in link
    Given I have an account without a password
    When I sign in with a sign-in link
    Then the browser shows my first name and email
    When I open the data page in the browser
    Then the browser is on the data page
    And the browser shows the API's data

  @CL-602 @actor
  Scenario: An admin impersonating me is shown as such
    Given I have an account with a password
    When an admin impersonates me
    Then the browser shows my first name and email
    And the app shows that I am impersonated by the admin

  @CL-603
  Scenario: A revoked sign-in link is refused
    Given I have an account without a password
    And my sign-in link has been revoked
    When I open my sign-in link in the browser
    Then the sign-in link is refused with Clerk's "ticket_invalid_code"
    When I open the data page in the browser
    Then the browser is on the sign-in page

  @CL-604
  Scenario: An expired sign-in link is refused
    Given I have an account without a password
    And my sign-in link has expired
    When I open my sign-in link in the browser
    Then the sign-in link is refused with Clerk's "ticket_expired_code"
    When I open the data page in the browser
    Then the browser is on the sign-in page
